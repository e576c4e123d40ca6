// 批量签署 (issue 13 item 16): one code for the exact list of contracts and marks, then every
// contract is signed in turn and its row says whether it was.
(() => {
  const root = document.getElementById("batch");
  if (!root || !root.querySelector("[data-seal]")) return;
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  const status = root.querySelector("[data-status]");
  const rows = [...root.querySelectorAll("[data-contract-id]")];
  const say = (text, bad) => { status.textContent = text; status.classList.toggle("alert", !!bad); };
  const choice = () => ({
    acting_as: root.dataset.acting, contract_ids: rows.map((r) => r.dataset.contractId),
    seal_id: root.querySelector("[data-seal]").value, date: root.querySelector("[data-date]").checked,
  });
  let batch = null; // {id, for: JSON of the choice the code was sent for}

  async function post(path, body) {
    const response = await fetch(`/api/v1/${path}`, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error?.message || response.statusText);
    return data;
  }

  root.querySelector("[data-send-code]").addEventListener("click", async () => {
    try {
      const answer = await post("signing-batches", choice());
      batch = { id: answer.batch_id, for: JSON.stringify(choice()) };
      answer.items.forEach((item) => {
        const row = rows.find((r) => r.dataset.contractId === item.contract_id);
        if (row) row.querySelector("[data-marks]").textContent = item.marks;
      });
      say(root.dataset.codeSent.replace("{to}", answer.sent_to));
      root.querySelector("[data-code]").focus();
    } catch (err) { say(err.message, true); }
  });
  root.querySelector("[data-confirm]").addEventListener("click", async (e) => {
    const button = e.currentTarget;
    if (!batch || batch.for !== JSON.stringify(choice())) { say(root.dataset.changed, true); return; }
    button.disabled = true;
    say(root.dataset.signing);
    try {
      const results = await post(`signing-batches/${batch.id}/sign`, { code: root.querySelector("[data-code]").value.trim() });
      results.forEach((r) => {
        const cell = rows.find((row) => row.dataset.contractId === r.contract_id)?.querySelector("[data-result]");
        if (!cell) return;
        cell.textContent = r.status === "signed" ? root.dataset.signed : `${root.dataset.failed}: ${r.error}`;
        cell.classList.toggle("danger", r.status !== "signed");
      });
      say("");
    } catch (err) { say(err.message, true); button.disabled = false; }
  });
})();
