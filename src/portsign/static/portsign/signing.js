// The signing page (SPEC D5): place seals, signatures and a date stamp on page previews,
// move, resize or remove them, then confirm with the intent code sent for exactly these marks.
(() => {
  const root = document.getElementById("sign");
  if (!root) return;
  const contract = root.dataset.contract;
  const acting = root.dataset.acting;
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  const status = root.querySelector(".sign-status");
  const list = root.querySelector(".placed-marks");
  const marks = []; // {id, sealId|null, page, x, y, width, ratio, el}
  let chosen = null; // palette item chosen by click, placed by the next click on a page
  let counter = 0;

  const say = (text, bad) => { status.textContent = text; status.classList.toggle("alert", !!bad); };
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  function describe(item) {
    return { sealId: item.dataset.sealId || null, ratio: parseFloat(item.dataset.ratio) || 1,
      width: parseFloat(item.dataset.width) || 0.2, src: item.querySelector("img")?.src, label: item.dataset.label };
  }

  function render(mark) {
    const page = root.querySelector(`.sign-page[data-page="${mark.page}"]`);
    if (!mark.el) {
      mark.el = document.createElement("div");
      mark.el.className = "placed";
      mark.el.dataset.testid = "placed-mark";
      mark.el.innerHTML = (mark.src ? `<img src="${mark.src}" alt="">` : `<span class="date-stamp">${root.dataset.today}</span>`) +
        `<button type="button" class="remove" title="${root.dataset.removeLabel}">×</button><span class="resize"></span>`;
      mark.el.querySelector(".remove").addEventListener("click", (e) => { e.stopPropagation(); remove(mark); });
      movable(mark);
    }
    page.appendChild(mark.el);
    const box = page.getBoundingClientRect();
    mark.el.style.left = `${mark.x * 100}%`;
    mark.el.style.top = `${mark.y * 100}%`;
    mark.el.style.width = `${mark.width * 100}%`;
    mark.el.style.height = `${mark.width * mark.ratio * box.width}px`;
    refreshList();
  }

  function refreshList() {
    list.innerHTML = "";
    marks.forEach((m) => {
      const li = document.createElement("li");
      li.textContent = `${m.label} · ${root.dataset.pageLabel} ${m.page}`;
      list.appendChild(li);
    });
    root.querySelector("[data-send-code]").disabled = marks.length === 0;
    root.querySelector("[data-qr]").disabled = marks.length === 0;
  }

  function remove(mark) {
    marks.splice(marks.indexOf(mark), 1);
    mark.el.remove();
    refreshList();
  }

  function place(item, pageEl, clientX, clientY) {
    const d = describe(item);
    const box = pageEl.getBoundingClientRect();
    const page = parseInt(pageEl.dataset.page, 10);
    const x = clamp((clientX - box.left) / box.width - d.width / 2, 0, 1 - d.width);
    const y = clamp((clientY - box.top) / box.height - (d.width * d.ratio * box.width) / box.height / 2, 0, 0.98);
    const mark = { id: ++counter, sealId: d.sealId, page, x, y, width: d.width, ratio: d.ratio, src: d.src, label: d.label };
    marks.push(mark);
    render(mark);
    say("");
  }

  function movable(mark) {
    let start = null;
    mark.el.addEventListener("pointerdown", (e) => {
      if (e.target.classList.contains("remove")) return;
      const box = mark.el.parentElement.getBoundingClientRect();
      start = { px: e.clientX, py: e.clientY, x: mark.x, y: mark.y, width: mark.width, box,
        resize: e.target.classList.contains("resize") };
      mark.el.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    mark.el.addEventListener("pointermove", (e) => {
      if (!start) return;
      const dx = (e.clientX - start.px) / start.box.width;
      const dy = (e.clientY - start.py) / start.box.height;
      if (start.resize) mark.width = clamp(start.width + dx, 0.04, Math.min(0.6, 1 - mark.x));
      else { mark.x = clamp(start.x + dx, 0, 1 - mark.width); mark.y = clamp(start.y + dy, 0, 0.98); }
      render(mark);
    });
    mark.el.addEventListener("pointerup", () => { start = null; });
  }

  root.querySelectorAll(".palette-item").forEach((item) => {
    item.addEventListener("dragstart", (e) => { e.dataTransfer.setData("text/plain", item.dataset.key); });
    item.addEventListener("click", () => {
      root.querySelectorAll(".palette-item").forEach((i) => i.classList.remove("chosen"));
      chosen = chosen === item ? null : item;
      if (chosen) { item.classList.add("chosen"); say(root.dataset.placeHint); }
    });
  });
  root.querySelectorAll(".sign-page").forEach((pageEl) => {
    pageEl.addEventListener("dragover", (e) => e.preventDefault());
    pageEl.addEventListener("drop", (e) => {
      e.preventDefault();
      const item = root.querySelector(`.palette-item[data-key="${e.dataTransfer.getData("text/plain")}"]`);
      if (item) place(item, pageEl, e.clientX, e.clientY);
    });
    pageEl.addEventListener("click", (e) => {
      if (!chosen || e.target.closest(".placed")) return;
      place(chosen, pageEl, e.clientX, e.clientY);
      chosen.classList.remove("chosen");
      chosen = null;
    });
  });

  const payload = () => marks.map((m) => {
    const base = { page: m.page, x: +m.x.toFixed(4), y: +m.y.toFixed(4), width: +m.width.toFixed(4) };
    return m.sealId ? { ...base, seal_id: m.sealId } : { ...base, date: true };
  });
  let sentFor = null;

  async function call(path, body) {
    const response = await fetch(`/api/v1/contracts/${contract}/${path}`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error?.message || response.statusText);
    return data;
  }

  // Back to the contract, which then says 签署成功 (issue 13 item 9).
  const signed = () => window.location.assign(`${window.location.pathname}?signed=1`);

  root.querySelector("[data-send-code]").addEventListener("click", async () => {
    try {
      const answer = await call("sign/codes", { acting_as: acting, marks: payload() });
      sentFor = JSON.stringify(payload());
      say(root.dataset.codeSent.replace("%s", answer.sent_to));
      root.querySelector("[data-code]").focus();
    } catch (err) { say(err.message, true); }
  });
  root.querySelector("[data-confirm]").addEventListener("click", async (e) => {
    const button = e.currentTarget;
    if (sentFor !== JSON.stringify(payload())) { say(root.dataset.marksChanged, true); return; }
    button.disabled = true;
    say(root.dataset.signing);
    try {
      await call("sign", { acting_as: acting, code: root.querySelector("[data-code]").value.trim(), marks: payload() });
      signed();
    } catch (err) { say(err.message, true); button.disabled = false; }
  });
  // Confirm on the phone: show the intent's QR code, wait for the confirmation, then sign.
  root.querySelector("[data-qr]").addEventListener("click", async () => {
    const box = root.querySelector("[data-qr-box]");
    try {
      const marksNow = payload();
      const answer = await call("sign/qr", { acting_as: acting, marks: marksNow });
      box.innerHTML = answer.qr_svg;
      box.hidden = false;
      say(root.dataset.qrHint);
      const poll = async () => {
        const response = await fetch(`/api/v1/contracts/${contract}/sign/intents/${answer.intent_id}`, { credentials: "same-origin" });
        const state = await response.json();
        if (state.expired || state.used) { box.hidden = true; say(root.dataset.marksChanged, true); return; }
        if (!state.confirmed) { setTimeout(poll, 2000); return; }
        say(root.dataset.signing);
        try {
          await call("sign", { acting_as: acting, intent_id: answer.intent_id, marks: marksNow });
          signed();
        } catch (err) { say(err.message, true); }
      };
      setTimeout(poll, 2000);
    } catch (err) { say(err.message, true); }
  });
  window.addEventListener("resize", () => marks.forEach(render));
})();
