// Send-code buttons: after the server answers, wait out the resend interval it names.
document.addEventListener("htmx:afterSwap", (event) => {
  const status = event.detail.target;
  if (!status.classList || !status.classList.contains("code-status")) return;
  const marker = status.querySelector("[data-resend]");
  const button = status.parentElement.querySelector(".send-code");
  if (!marker || !button) return;
  let left = parseInt(marker.dataset.resend, 10) || 0;
  const label = button.dataset.label || button.textContent;
  button.dataset.label = label;
  const tick = () => {
    if (left <= 0) { button.disabled = false; button.textContent = label; return; }
    button.disabled = true;
    button.textContent = `${label} (${left}s)`;
    left -= 1;
    setTimeout(tick, 1000);
  };
  tick();
});

// Signature pad: draw with mouse, pen or finger; the drawing is sent as a transparent PNG.
document.querySelectorAll("form.draw-form").forEach((form) => {
  const canvas = form.querySelector("canvas");
  const input = form.querySelector("input[type=file]");
  const pen = canvas.getContext("2d");
  pen.lineWidth = 6; pen.lineCap = "round"; pen.lineJoin = "round"; pen.strokeStyle = "#14141e";
  let drawing = false, inked = false;
  const at = (e) => {
    const box = canvas.getBoundingClientRect();
    return [(e.clientX - box.left) * canvas.width / box.width, (e.clientY - box.top) * canvas.height / box.height];
  };
  canvas.addEventListener("pointerdown", (e) => { drawing = true; canvas.setPointerCapture(e.pointerId); pen.beginPath(); pen.moveTo(...at(e)); });
  canvas.addEventListener("pointermove", (e) => { if (!drawing) return; pen.lineTo(...at(e)); pen.stroke(); inked = true; });
  canvas.addEventListener("pointerup", () => { drawing = false; });
  form.querySelector("[data-clear]").addEventListener("click", () => { pen.clearRect(0, 0, canvas.width, canvas.height); inked = false; });
  form.addEventListener("submit", (e) => {
    if (input.files.length) return;
    e.preventDefault();
    if (!inked) return;
    canvas.toBlob((blob) => {
      const files = new DataTransfer();
      files.items.add(new File([blob], "signature.png", { type: "image/png" }));
      input.files = files.files;
      form.submit();
    }, "image/png");
  });
});

// Parts of a form that apply to one choice only, e.g. mailing details for a UKey:
// <fieldset data-show-for="medium=ukey"> shows while the form's `medium` is `ukey`.
// Without script every part stays visible, and the server ignores what does not apply.
document.querySelectorAll("[data-show-for]").forEach((part) => {
  const [name, value] = part.dataset.showFor.split("=");
  const choice = part.closest("form")?.querySelector(`[name="${name}"]`);
  if (!choice) return;
  const sync = () => { part.hidden = choice.value !== value; };
  choice.addEventListener("change", sync);
  sync();
});

// Phone layout: the header's menu button opens and closes the navigation and account controls.
document.querySelectorAll(".menu-toggle").forEach((toggle) => {
  const bar = toggle.closest(".topbar");
  const set = (open) => { toggle.setAttribute("aria-expanded", String(open)); bar.classList.toggle("menu-open", open); };
  toggle.addEventListener("click", () => set(toggle.getAttribute("aria-expanded") !== "true"));
  document.addEventListener("keydown", (e) => { if (e.key === "Escape" && bar.classList.contains("menu-open")) { set(false); toggle.focus(); } });
});

// Irreversible actions (issue 13 item 6): a form with data-confirm says what will happen and
// is sent only when the person agrees.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
  if (!window.confirm(form.dataset.confirm)) event.preventDefault();
}, true);

// Long actions (sending takes seconds): the clicked button says what is happening and cannot
// be pressed twice (issue 13 item 9).
document.addEventListener("submit", (event) => {
  if (event.defaultPrevented) return; // declined at a confirmation
  const button = event.submitter;
  if (!button || !button.dataset.busy) return;
  // After the form's data is taken: a disabled button would drop its own name and value.
  setTimeout(() => { button.disabled = true; button.textContent = button.dataset.busy; }, 0);
});

// Long contracts (issue 13 item 11): "go to page n" scrolls to that page of the rail's pages.
document.addEventListener("change", (event) => {
  const input = event.target;
  const form = input instanceof HTMLInputElement ? input.closest("form[data-jump]") : null;
  if (!form) return;
  const page = document.getElementById(`${form.dataset.jump}-${parseInt(input.value, 10)}`);
  if (page) page.scrollIntoView({ behavior: "auto", block: "start" });
});
