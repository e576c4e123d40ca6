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
    return { sealId: item.dataset.sealId || null, paging: item.dataset.paging === "1", ratio: parseFloat(item.dataset.ratio) || 1,
      width: parseFloat(item.dataset.width) || 0.2, src: item.querySelector("img")?.src, label: item.dataset.label };
  }

  function render(mark) {
    const page = root.querySelector(`.sign-page[data-page="${mark.page}"]`);
    if (!mark.el) {
      mark.el = document.createElement("div");
      mark.el.className = mark.paging ? "placed paging" : "placed";
      mark.el.dataset.testid = "placed-mark";
      mark.el.innerHTML = (mark.src ? `<img src="${mark.src}" alt="">` : `<span class="date-stamp">${root.dataset.today}</span>`) +
        `<button type="button" class="remove" title="${root.dataset.removeLabel}">×</button><span class="resize"></span>`;
      mark.el.querySelector(".remove").addEventListener("click", (e) => { e.stopPropagation(); remove(mark); });
      movable(mark);
    }
    // Re-appending on every move would release the pointer capture and strand the drag.
    if (mark.el.parentElement !== page) page.appendChild(mark.el);
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
    root.querySelectorAll("[data-qr], [data-face]").forEach((b) => { b.disabled = marks.length === 0; });
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
    // A paging seal (骑缝章) sits on the right edge of every page; only its height is chosen.
    const x = d.paging ? 1 - d.width : clamp((clientX - box.left) / box.width - d.width / 2, 0, 1 - d.width);
    const y = clamp((clientY - box.top) / box.height - (d.width * d.ratio * box.width) / box.height / 2, 0, 0.98);
    const mark = { id: ++counter, sealId: d.sealId, paging: d.paging, page, x, y, width: d.width, ratio: d.ratio, src: d.src, label: d.label };
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
      if (start.resize) mark.width = clamp(start.width + dx, 0.04, mark.paging ? 0.6 : Math.min(0.6, 1 - mark.x));
      else { mark.x = clamp(start.x + dx, 0, 1 - mark.width); mark.y = clamp(start.y + dy, 0, 0.98); }
      if (mark.paging) mark.x = 1 - mark.width;
      render(mark);
    });
    ["pointerup", "pointercancel", "lostpointercapture"].forEach((type) => mark.el.addEventListener(type, () => { start = null; }));
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
    if (m.paging) return { ...base, seal_id: m.sealId, paging: true };
    return m.sealId ? { ...base, seal_id: m.sealId } : { ...base, date: true };
  });
  const finishBox = root.querySelector("[data-finish]");
  const finishing = () => finishBox.checked;
  const request = () => ({ acting_as: acting, marks: payload(), finish: finishing() });
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
  // An act that does not finish the party's part says so, and offers 完成签署.
  const signed = (finish) => window.location.assign(`${window.location.pathname}?signed=${finish ? 1 : "act"}`);

  root.querySelector("[data-send-code]").addEventListener("click", async () => {
    try {
      const answer = await call("sign/codes", request());
      sentFor = JSON.stringify(request());
      say(root.dataset.codeSent.replace("%s", answer.sent_to));
      root.querySelector("[data-code]").focus();
    } catch (err) { say(err.message, true); }
  });
  root.querySelector("[data-confirm]").addEventListener("click", async (e) => {
    const button = e.currentTarget;
    if (sentFor !== JSON.stringify(request())) { say(root.dataset.marksChanged, true); return; }
    button.disabled = true;
    say(root.dataset.signing);
    try {
      const body = request();
      await call("sign", { ...body, code: root.querySelector("[data-code]").value.trim() });
      signed(body.finish);
    } catch (err) { say(err.message, true); button.disabled = false; }
  });
  // Confirm on the phone (QR) or by a face check: show the QR code (and, for the face check,
  // its link), wait for the confirmation, then sign with the confirmed intent.
  async function confirmElsewhere(path, hint) {
    const box = root.querySelector("[data-qr-box]");
    try {
      const body = request();
      const answer = await call(path, body);
      box.innerHTML = answer.qr_svg;
      if (answer.face_url) {
        const link = document.createElement("a");
        link.href = answer.face_url; link.target = "_blank"; link.rel = "noopener";
        link.textContent = answer.face_url; link.dataset.testid = "sign-face-link";
        box.appendChild(link);
      }
      box.hidden = false;
      say(hint);
      const poll = async () => {
        const response = await fetch(`/api/v1/contracts/${contract}/sign/intents/${answer.intent_id}`, { credentials: "same-origin" });
        const state = await response.json();
        if (state.failure === "face_mismatch") { box.hidden = true; say(root.dataset.faceFailed, true); return; }
        if (state.expired || state.used) { box.hidden = true; say(root.dataset.marksChanged, true); return; }
        if (!state.confirmed) { setTimeout(poll, 2000); return; }
        say(root.dataset.signing);
        try {
          await call("sign", { ...body, intent_id: answer.intent_id });
          signed(body.finish);
        } catch (err) { say(err.message, true); }
      };
      setTimeout(poll, 2000);
    } catch (err) { say(err.message, true); }
  }
  root.querySelector("[data-qr]").addEventListener("click", () => confirmElsewhere("sign/qr", root.dataset.qrHint));
  root.querySelector("[data-face]")?.addEventListener("click", () => confirmElsewhere("sign/face", root.dataset.faceHint));
  window.addEventListener("resize", () => marks.forEach(render));
})();
