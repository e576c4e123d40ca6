// Word uploads (issue 11 item 4): a .doc/.docx chosen in a form marked data-convert-word is
// first sent to /api/v1/conversions, which answers at once; the form shows the conversion's
// stage and elapsed time, and once the PDF is ready submits with the conversion's id in place
// of the file. PDFs, and browsers without JavaScript, post the file as before.
(() => {
  const WORD = /\.docx?$/i;
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function follow(form) {
    const input = form.querySelector('input[type="file"][name="file"]');
    const box = form.querySelector("[data-conversion]");
    const submit = form.querySelector('button[type="submit"]');
    if (!input || !box) return;
    const bar = box.querySelector("progress");
    const text = box.querySelector("[data-conversion-text]");
    const csrf = form.querySelector('[name="csrfmiddlewaretoken"]').value;

    const show = (job, started) => {
      bar.value = job.progress;
      const seconds = Math.round((Date.now() - started) / 1000);
      text.textContent = box.dataset.elapsed
        .replace("{status}", job.status_label).replace("{seconds}", seconds);
      box.dataset.state = job.status;
    };
    const fail = (message) => {
      box.dataset.state = "failed";
      text.textContent = message;
      text.setAttribute("role", "alert");
      submit.disabled = false;
    };
    const call = async (url, options) => {
      const response = await fetch(url, { credentials: "same-origin", ...options });
      const body = await response.json().catch(() => ({}));
      return { ok: response.ok, body };
    };

    form.addEventListener("submit", async (event) => {
      const file = input.files[0];
      if (!file || !WORD.test(file.name)) return;
      event.preventDefault();
      if (submit.disabled) return; // a double click converts once
      submit.disabled = true;
      box.hidden = false;
      text.removeAttribute("role");
      const started = Date.now();
      try {
        const body = new FormData();
        body.append("file", file);
        let { ok, body: job } = await call("/api/v1/conversions", {
          method: "POST", body, headers: { "X-CSRFToken": csrf },
        });
        if (!ok) { fail(job.error ? job.error.message : box.dataset.unreachable); return; }
        while (job.status === "queued" || job.status === "converting") {
          show(job, started);
          await sleep(700);
          const next = await call(`/api/v1/conversions/${job.id}`);
          if (next.ok) job = next.body;
        }
        show(job, started);
        if (job.status !== "done") { fail(job.error.message); return; }
        const named = document.createElement("input");
        named.type = "hidden";
        named.name = "conversion";
        named.value = job.id;
        form.append(named);
        input.disabled = true; // the converted PDF is sent by its id, not the Word file again
        form.submit();
      } catch (err) {
        fail(box.dataset.unreachable);
      }
    });
  }

  document.querySelectorAll("form[data-convert-word]").forEach(follow);
})();
