// The bulk-send progress page (issue 6 §2): follow the job's counters until it has finished,
// then reload to show every row with its contract or error.
(() => {
  const root = document.getElementById("bulk-job");
  if (!root || root.dataset.finished === "true") return;
  const bar = root.querySelector("progress");
  const set = (selector, value) => { root.querySelector(selector).textContent = value; };

  async function poll() {
    try {
      const response = await fetch(`/api/v1/bulk-sends/${root.dataset.job}`, { credentials: "same-origin" });
      if (response.ok) {
        const job = await response.json();
        bar.max = job.total;
        bar.value = job.done + job.failed;
        set("[data-bulk-handled]", job.done + job.failed);
        set("[data-bulk-done]", job.done);
        set("[data-bulk-failed]", job.failed);
        root.querySelector("[data-bulk-status]").dataset.state = job.status;
        if (job.status === "finished") { window.location.reload(); return; }
      }
    } catch (err) { /* a missed poll is retried */ }
    setTimeout(poll, 700);
  }
  setTimeout(poll, 300);
})();
