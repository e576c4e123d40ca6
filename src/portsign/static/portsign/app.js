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
