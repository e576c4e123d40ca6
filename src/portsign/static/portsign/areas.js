// Signing areas on a draft (issue 13 item 11): the sender picks a party and a kind, clicks on a
// page to draw an area of the usual size there, and removes one with ×. Stored through the API
// (POST/DELETE /api/v1/contracts/{id}/areas), so signers and batch signing see the same areas.
(() => {
  const root = document.getElementById("areas");
  if (!root) return;
  const contract = root.dataset.contract;
  const labels = JSON.parse(root.dataset.labels);
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  const status = root.querySelector("[data-area-status]");
  const party = root.querySelector("[data-area-party]");
  const kind = root.querySelector("[data-area-kind]");
  const base = `/api/v1/contracts/${contract}/areas`;
  // Width as a fraction of the page; height follows from an A4 page's proportions.
  const SIZES = { seal: [0.2, 0.14], signature: [0.2, 0.07], date: [0.16, 0.05] };
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));

  async function call(method, path, body) {
    const response = await fetch(path, {
      method, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: body ? JSON.stringify(body) : undefined,
    });
    const data = response.status === 204 ? {} : await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error?.message || response.statusText);
    return data;
  }

  function draw(area) {
    const page = root.querySelector(`.area-page[data-page="${area.page}"]`);
    if (!page) return;
    const box = document.createElement("div");
    box.className = "area-box";
    box.dataset.testid = "area-box";
    Object.assign(box.style, { left: `${area.x * 100}%`, top: `${area.y * 100}%`, width: `${area.width * 100}%`, height: `${area.height * 100}%` });
    const name = party.querySelector(`option[value="${area.party_id}"]`)?.textContent || "";
    box.textContent = `${labels[area.kind] || ""} · ${name}`;
    const remove = document.createElement("button");
    remove.type = "button"; remove.className = "remove"; remove.textContent = "×";
    remove.title = root.dataset.removeLabel; remove.dataset.testid = "area-remove";
    remove.addEventListener("click", async (e) => {
      e.stopPropagation();
      try { await call("DELETE", `${base}/${area.id}`); box.remove(); } catch (err) { status.textContent = err.message; }
    });
    box.appendChild(remove);
    page.appendChild(box);
  }

  root.querySelectorAll(".area-page").forEach((pageEl) => {
    pageEl.addEventListener("click", async (e) => {
      if (e.target.closest(".area-box")) return;
      const rect = pageEl.getBoundingClientRect();
      const [width, height] = SIZES[kind.value];
      const x = clamp((e.clientX - rect.left) / rect.width - width / 2, 0, 1 - width);
      const y = clamp((e.clientY - rect.top) / rect.height - height / 2, 0, 1 - height);
      try {
        const area = await call("POST", base, { party_id: party.value, kind: kind.value, page: parseInt(pageEl.dataset.page, 10),
          x: +x.toFixed(4), y: +y.toFixed(4), width, height });
        draw(area);
        status.textContent = "";
      } catch (err) { status.textContent = err.message; }
    });
  });
  call("GET", base).then((found) => found.forEach(draw)).catch(() => {});
})();
