// The template designer (issue 6 §1): signing roles, fill-in fields and signing areas placed on
// page previews as boxes (fractions of the page, origin top-left, as the API stores them).
// Click a tool, then a page; drag a box to move it, pull its corner to resize. Saving sends the
// whole layout to PUT /api/v1/templates/{id}; the server checks everything again.
(() => {
  const root = document.getElementById("designer");
  if (!root) return;
  const id = root.dataset.template;
  const data = JSON.parse(document.getElementById("template-data").textContent);
  const csrf = JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"];
  const status = root.querySelector("[data-status]");
  const props = root.querySelector("[data-props]");
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const round = (v) => Math.round(v * 10000) / 10000;
  const optionLabel = (select, value) => [...select.options].find((o) => o.value === value)?.textContent || value;
  const kindSelect = root.querySelector("[data-prop=kind]");
  const areaKindSelect = root.querySelector("[data-area-kind]");

  const roles = data.roles.map((r) => ({ ...r }));
  const items = [
    // A party's field keeps its role as the role object, like an area, so renames follow it.
    ...data.fields.map((f) => ({ ...f, type: "field", role: roles.find((r) => r.name === f.role) || null })),
    ...data.areas.map((a) => ({ ...a, type: "area", role: roles.find((r) => r.name === a.role) })),
  ];
  let selected = null;
  let tool = null;

  const say = (text, state) => {
    status.textContent = text;
    status.dataset.state = state || "";
    status.classList.toggle("alert", state === "error");
  };
  const changed = () => say(root.dataset.unsaved, "dirty");

  // -- template-level properties -------------------------------------------------------------
  root.querySelectorAll("[data-prop-template]").forEach((input) => {
    const key = input.dataset.propTemplate;
    input.value = data[key] || "";
    input.addEventListener("input", () => { data[key] = input.value; changed(); });
  });

  // -- roles ---------------------------------------------------------------------------------
  function renderRoles() {
    const list = root.querySelector("[data-roles]");
    list.innerHTML = "";
    roles.forEach((role) => {
      const li = document.createElement("li");
      li.className = "tpl-role";
      li.dataset.testid = "tpl-role";
      li.innerHTML = `<input class="tpl-role-order" type="number" min="1" max="20" aria-label="#">` +
        `<input class="tpl-role-name" maxlength="20"><label class="check"><input type="checkbox" class="tpl-role-sender"> ${escape(root.dataset.senderLabel)}</label>` +
        `<button type="button" class="link danger" aria-label="×">×</button>`;
      const [order, name] = li.querySelectorAll("input");
      const sender = li.querySelector(".tpl-role-sender");
      order.value = role.order;
      name.value = role.name;
      sender.checked = !!role.is_sender;
      order.addEventListener("input", () => { role.order = parseInt(order.value, 10) || null; changed(); });
      name.addEventListener("input", () => { role.name = name.value.trim(); refreshRoleSelects(); items.forEach(draw); changed(); });
      sender.addEventListener("change", () => {
        roles.forEach((r) => { r.is_sender = r === role && sender.checked; });
        renderRoles();
        changed();
      });
      li.querySelector("button").addEventListener("click", () => {
        roles.splice(roles.indexOf(role), 1);
        items.filter((i) => i.type === "area" && i.role === role).forEach(removeItem);
        items.filter((i) => i.type === "field" && i.role === role).forEach((f) => { f.role = null; f.filled_by = "sender"; });
        renderRoles();
        changed();
      });
      list.appendChild(li);
    });
    refreshRoleSelects();
  }

  function refreshRoleSelects() {
    root.querySelectorAll("[data-area-role], [data-prop=role]").forEach((select) => {
      const previous = select.value;
      select.innerHTML = roles.map((r, n) => `<option value="${n}">${escape(r.name)}</option>`).join("");
      if (previous && roles[previous]) select.value = previous;
    });
    if (selected?.type === "area") root.querySelector("[data-prop=role]").value = roles.indexOf(selected.role);
    // "Filled by": the sender's side, or the party of one role ("party:<index>").
    const filledBy = root.querySelector("[data-prop=filled_by]");
    filledBy.querySelectorAll("[data-role-option]").forEach((o) => o.remove());
    roles.forEach((r, n) => {
      const option = document.createElement("option");
      option.value = `party:${n}`;
      option.dataset.roleOption = "";
      option.textContent = root.dataset.filledByRole.replace("%s", r.name);
      filledBy.appendChild(option);
    });
    if (selected?.type === "field") filledBy.value = filledByValue(selected);
  }

  const filledByValue = (field) => (field.filled_by === "party" ? `party:${roles.indexOf(field.role)}` : field.filled_by);

  const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

  root.querySelector("[data-add-role]").addEventListener("click", () => {
    const input = root.querySelector("[data-new-role]");
    const name = input.value.trim();
    if (!name) return;
    roles.push({ name, order: Math.max(0, ...roles.map((r) => r.order || 0)) + 1, is_sender: false });
    input.value = "";
    renderRoles();
    root.querySelector("[data-area-role]").value = String(roles.length - 1);
    changed();
  });

  // -- boxes ---------------------------------------------------------------------------------
  function caption(item) {
    if (item.type === "field") {
      const name = item.label || item.key;
      return item.filled_by === "party" && item.role ? `${name} · ${item.role.name}` : name;
    }
    return `${item.role ? item.role.name : "?"} · ${optionLabel(areaKindSelect, item.kind)}`;
  }

  function draw(item) {
    if (!item.el) {
      item.el = document.createElement("div");
      item.el.dataset.testid = "tpl-box";
      item.el.innerHTML = `<span class="tpl-caption"></span><span class="resize"></span>`;
      movable(item);
    }
    item.el.className = `tpl-box ${item.type}${item === selected ? " selected" : ""}`;
    root.querySelector(`.tpl-page[data-page="${item.page}"]`).appendChild(item.el);
    Object.assign(item.el.style, {
      left: `${item.x * 100}%`, top: `${item.y * 100}%`, width: `${item.width * 100}%`, height: `${item.height * 100}%`,
    });
    item.el.querySelector(".tpl-caption").textContent = caption(item);
  }

  function removeItem(item) {
    items.splice(items.indexOf(item), 1);
    item.el?.remove();
    if (selected === item) select(null);
  }

  function movable(item) {
    let start = null;
    item.el.addEventListener("pointerdown", (e) => {
      select(item);
      const box = item.el.parentElement.getBoundingClientRect();
      start = { px: e.clientX, py: e.clientY, x: item.x, y: item.y, w: item.width, h: item.height, box,
        resize: e.target.classList.contains("resize") };
      item.el.setPointerCapture(e.pointerId);
      e.preventDefault();
      e.stopPropagation();
    });
    item.el.addEventListener("pointermove", (e) => {
      if (!start) return;
      const dx = (e.clientX - start.px) / start.box.width;
      const dy = (e.clientY - start.py) / start.box.height;
      if (start.resize) {
        item.width = round(clamp(start.w + dx, 0.01, 1 - item.x));
        item.height = round(clamp(start.h + dy, 0.005, 1 - item.y));
      } else {
        item.x = round(clamp(start.x + dx, 0, 1 - item.width));
        item.y = round(clamp(start.y + dy, 0, 1 - item.height));
      }
      draw(item);
    });
    item.el.addEventListener("pointerup", () => { if (start) changed(); start = null; });
    item.el.addEventListener("click", (e) => e.stopPropagation());
  }

  const SIZES = { text: [0.3, 0.03], number: [0.18, 0.03], date: [0.2, 0.03], checkbox: [0.03, 0.022],
    seal: [0.22, 0.15], signature: [0.2, 0.07], date_area: [0.18, 0.04] };

  function newItem(pageEl, clientX, clientY) {
    const box = pageEl.getBoundingClientRect();
    const page = parseInt(pageEl.dataset.page, 10);
    let item;
    if (tool.type === "field") {
      let n = items.filter((i) => i.type === "field").length + 1;
      while (items.some((i) => i.key === `field${n}`)) n += 1;
      item = { type: "field", key: `field${n}`, label: `${optionLabel(kindSelect, tool.kind)} ${n}`, kind: tool.kind,
        required: false, filled_by: "sender", max_length: tool.kind === "text" ? 100 : null, min_value: null,
        max_value: null, decimals: null, date_format: "YYYY-MM-DD" };
      [item.width, item.height] = SIZES[tool.kind];
    } else {
      const role = roles[parseInt(root.querySelector("[data-area-role]").value, 10)];
      item = { type: "area", role, kind: areaKindSelect.value };
      [item.width, item.height] = SIZES[item.kind === "date" ? "date_area" : item.kind];
    }
    item.page = page;
    item.x = round(clamp((clientX - box.left) / box.width - item.width / 2, 0, 1 - item.width));
    item.y = round(clamp((clientY - box.top) / box.height - item.height / 2, 0, 1 - item.height));
    items.push(item);
    select(item);
    changed();
  }

  root.querySelectorAll("[data-tool]").forEach((button) => {
    button.addEventListener("click", () => {
      if (button.dataset.tool === "area" && !roles.length) { say(root.dataset.needRole, "error"); return; }
      const same = tool && tool.button === button;
      root.querySelectorAll("[data-tool]").forEach((b) => b.classList.remove("chosen"));
      tool = same ? null : { type: button.dataset.tool, kind: button.dataset.kind, button };
      if (tool) { button.classList.add("chosen"); say(root.dataset.placeHint); }
    });
  });
  root.querySelectorAll(".tpl-page").forEach((pageEl) => {
    pageEl.addEventListener("click", (e) => {
      if (!tool) { select(null); return; }
      newItem(pageEl, e.clientX, e.clientY);
      tool.button.classList.remove("chosen");
      tool = null;
    });
  });

  // -- the selected box's properties ---------------------------------------------------------
  function select(item) {
    const previous = selected;
    selected = item;
    if (previous) draw(previous);
    if (!item) { props.hidden = true; return; }
    draw(item);
    props.hidden = false;
    const isField = item.type === "field";
    props.querySelector("[data-props-title]").textContent = isField ? root.dataset.labelField : root.dataset.labelArea;
    props.querySelector("[data-field-props]").hidden = !isField;
    props.querySelector("[data-area-props]").hidden = isField;
    props.querySelectorAll("[data-prop]").forEach((input) => {
      const key = input.dataset.prop;
      if (key === "role") input.value = roles.indexOf(item.role);
      else if (key === "filled_by") input.value = filledByValue(item);
      else if (key === "area_kind") input.value = item.kind;
      else if (input.type === "checkbox") input.checked = !!item[key];
      else input.value = item[key] ?? "";
    });
    showKindOptions();
  }

  function showKindOptions() {
    if (selected?.type !== "field") return;
    props.querySelectorAll("[data-only]").forEach((el) => { el.hidden = el.dataset.only !== selected.kind; });
  }

  props.querySelectorAll("[data-prop]").forEach((input) => {
    input.addEventListener(input.tagName === "SELECT" || input.type === "checkbox" ? "change" : "input", () => {
      if (!selected) return;
      const key = input.dataset.prop;
      if (key === "role") selected.role = roles[parseInt(input.value, 10)];
      else if (key === "filled_by" && input.value.startsWith("party:")) {
        selected.filled_by = "party";
        selected.role = roles[parseInt(input.value.slice(6), 10)];
      } else if (key === "filled_by") { selected.filled_by = input.value; selected.role = null; }
      else if (key === "area_kind") selected.kind = input.value;
      else if (input.type === "checkbox") selected[key] = input.checked;
      else if (["max_length", "decimals"].includes(key)) selected[key] = input.value === "" ? null : parseInt(input.value, 10);
      else if (["min_value", "max_value"].includes(key)) selected[key] = input.value.trim() === "" ? null : input.value.trim();
      else selected[key] = input.value;
      if (key === "kind") showKindOptions();
      draw(selected);
      changed();
    });
  });
  props.querySelector("[data-remove-item]").addEventListener("click", () => { if (selected) { removeItem(selected); changed(); } });

  // -- saving --------------------------------------------------------------------------------
  function payload() {
    const box = (i) => ({ page: i.page, x: i.x, y: i.y, width: i.width, height: i.height });
    return {
      name: data.name, description: data.description || "", ordering: data.ordering || "sequential",
      contract_type: data.contract_type || "",
      roles: roles.map((r) => ({ name: r.name, order: r.order, is_sender: !!r.is_sender })),
      fields: items.filter((i) => i.type === "field").map((f) => ({
        ...box(f), key: f.key, label: f.label, kind: f.kind, required: !!f.required, filled_by: f.filled_by,
        role: f.filled_by === "party" && f.role ? f.role.name : "",
        max_length: f.kind === "text" ? f.max_length : null, min_value: f.min_value, max_value: f.max_value,
        decimals: f.decimals, date_format: f.date_format,
      })),
      areas: items.filter((i) => i.type === "area").map((a) => ({ ...box(a), role: a.role ? a.role.name : "", kind: a.kind })),
    };
  }

  root.querySelector("[data-save]").addEventListener("click", async (e) => {
    const button = e.currentTarget;
    button.disabled = true;
    try {
      const response = await fetch(`/api/v1/templates/${id}`, {
        method: "PUT", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(payload()),
      });
      const answer = await response.json().catch(() => ({}));
      if (!response.ok) {
        const details = Object.entries(answer.error?.fields || {}).map(([k, v]) => `${k}: ${v}`).join("; ");
        say(`${answer.error?.message || response.statusText}${details ? ` (${details})` : ""}`, "error");
      } else {
        say(root.dataset.saved, "saved");
      }
    } catch (err) {
      say(err.message, "error");
    } finally {
      button.disabled = false;
    }
  });

  renderRoles();
  items.forEach(draw);
  window.addEventListener("resize", () => items.forEach(draw));
})();
