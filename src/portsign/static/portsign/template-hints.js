// Suggested marks on the signing page (issue 6 §1): a contract made from a template shows,
// for the party signing now, where the template expects its seal, signature or date stamp.
// Only a guide: the signer still places the marks (signing.js), anywhere.
(() => {
  const script = document.currentScript;
  const root = document.getElementById("sign");
  if (!root || !script) return;
  const labels = { seal: script.dataset.seal, signature: script.dataset.signature, date: script.dataset.date };
  fetch(`/api/v1/contracts/${root.dataset.contract}`, { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((contract) => {
      const party = contract?.parties.find((p) => p.id === script.dataset.party);
      (party?.suggested_marks || []).forEach((mark) => {
        const page = root.querySelector(`.sign-page[data-page="${mark.page}"]`);
        if (!page) return;
        const hint = document.createElement("div");
        hint.className = "suggested";
        hint.dataset.testid = "suggested-mark";
        Object.assign(hint.style, {
          left: `${mark.x * 100}%`, top: `${mark.y * 100}%`, width: `${mark.width * 100}%`, height: `${mark.height * 100}%`,
        });
        hint.textContent = labels[mark.kind] || "";
        page.prepend(hint);
      });
    })
    .catch(() => {});
})();
