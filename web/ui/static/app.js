// Flagent admin UI behaviour. Pages are rendered by the server; this script only:
// - submits forms marked data-api to the JSON API (with the session's CSRF token and the page's
//   tenant, project and environment), shows the API's error message in the form, marks the field it
//   names, and on success goes to data-next (with {field} replaced from the answer) or reloads;
// - asks before data-confirm actions;
// - submits data-autosubmit selects when they change;
// - focuses the element with data-hotkey when its key is pressed outside a text field;
// - shows each <time>'s exact moment in the browser's time zone as its title.

const csrfToken = () => {
  const entry = document.cookie.split("; ").find((c) => c.startsWith("flagent_csrf="));
  return entry ? decodeURIComponent(entry.slice("flagent_csrf=".length)) : "";
};

// Sets body[a][0][b] for the name "a.0.b": numeric parts make arrays.
const setPath = (body, name, value) => {
  const parts = name.split(".");
  let target = body;
  parts.forEach((part, i) => {
    if (i === parts.length - 1) { target[part] = value; return; }
    if (target[part] === undefined) target[part] = /^\d+$/.test(parts[i + 1]) ? [] : {};
    target = target[part];
  });
};

// The form's fields as JSON: data-type="number" | "json" | "boolean" on an element converts it;
// a checkbox gives a boolean; dotted names ("distributions.0.percent") build nested objects and
// arrays; fields without a name and empty optional numbers are left out.
const formBody = (form) => {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    const type = el.dataset.type;
    // data-type="list": checkboxes sharing a name give the array of the checked ones' values.
    if (type === "list") { if (!Array.isArray(body[el.name])) body[el.name] = []; if (el.checked) body[el.name].push(el.value); continue; }
    // data-type="optional" | "datetime" (a local time, sent as RFC 3339): left out when empty.
    if ((type === "optional" || type === "datetime") && el.value === "") continue;
    let value = el.value;
    if (type === "datetime") value = new Date(el.value).toISOString();
    else if (el.type === "checkbox") value = el.checked;
    else if (type === "number") { if (el.value === "") continue; value = Number(el.value); }
    else if (type === "json") value = el.value.trim() === "" ? null : JSON.parse(el.value);
    else if (type === "boolean") value = el.value === "true";
    setPath(body, el.name, value);
  }
  return body;
};

const showError = (form, message, field) => {
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  form.querySelectorAll(".field-error").forEach((el) => el.remove());
  const alert = form.querySelector("[role=alert]");
  const input = field && form.elements.namedItem(field.split(/[.[]/)[0]);
  if (input instanceof HTMLElement) {
    input.setAttribute("aria-invalid", "true");
    const note = document.createElement("span");
    note.className = "field-error";
    note.id = `${input.id || input.name}-error`;
    note.textContent = message;
    input.setAttribute("aria-describedby", note.id);
    input.insertAdjacentElement("afterend", note);
  }
  if (alert) { alert.textContent = message; alert.hidden = false; }
};

const fill = (template, answer) =>
  template.replace(/\{(\w+)\}/g, (_, name) => encodeURIComponent(answer?.[name] ?? ""));

const submitToApi = async (form, event) => {
  event.preventDefault();
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  const button = form.querySelector("[type=submit]");
  let body;
  try {
    body = formBody(form);
  } catch (error) {
    showError(form, `Not valid JSON: ${error.message}`);
    return;
  }
  const { tenant, project, environment } = document.body.dataset;
  const headers = { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() };
  if (tenant) headers["X-Tenant-ID"] = tenant;
  if (project) headers["X-Project"] = project;
  if (environment) headers["X-Environment"] = environment;
  if (button) button.disabled = true;
  try {
    const method = form.dataset.method || "POST";
    const response = await fetch(form.dataset.api, {
      method,
      headers,
      body: method === "GET" || method === "DELETE" ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
    const text = await response.text();
    const answer = text ? JSON.parse(text) : null;
    if (!response.ok) {
      const error = answer?.error ?? {};
      showError(form, error.message || `The server answered ${response.status}.`, error.field);
      return;
    }
    const next = form.dataset.next;
    form.dispatchEvent(new CustomEvent("api:done", { detail: answer, bubbles: true }));
    if (next) window.location.assign(fill(next, answer));
    else if (!form.hasAttribute("data-stay")) window.location.reload();
  } catch (error) {
    showError(form, `Could not reach the server (${error.message}).`);
  } finally {
    if (button) button.disabled = false;
  }
};

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || form.dataset.bulk) return;
  if (form.dataset.api) submitToApi(form, event);
  else if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
  }
});

document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit")) el.form?.requestSubmit();
});

document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLElement && event.target.closest("input, textarea, select, [contenteditable]");
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  const target = document.querySelector(`[data-hotkey="${CSS.escape(event.key)}"]`);
  if (target instanceof HTMLElement) { event.preventDefault(); target.focus(); }
});

// JSON fields validate as you type: an invalid document marks the field and says why, and the
// form cannot be sent until it parses.
const checkJson = (el) => {
  let message = "";
  if (el.value.trim() !== "") {
    try { JSON.parse(el.value); } catch (error) { message = `Not valid JSON: ${error.message}`; }
  }
  el.setCustomValidity(message);
  if (message) el.setAttribute("aria-invalid", "true");
  else el.removeAttribute("aria-invalid");
  let note = document.getElementById(`${el.id}-json`);
  if (!note) {
    note = document.createElement("span");
    note.id = `${el.id}-json`;
    note.className = "field-error";
    note.setAttribute("aria-live", "polite");
    el.insertAdjacentElement("afterend", note);
  }
  note.textContent = message;
};

// Distributions: a slider mirrors its number field, the form shows the total, and it can be sent
// only when the total is exactly data-sum.
const checkSum = (form) => {
  const parts = [...form.querySelectorAll("[data-sum-part]")];
  const total = parts.reduce((sum, el) => sum + (Number(el.value) || 0), 0);
  const output = form.querySelector("[data-sum-total]");
  if (output) output.textContent = String(total);
  const wanted = Number(form.dataset.sum);
  const message = total === wanted ? "" : `The shares add up to ${total}%; they must add up to ${wanted}%.`;
  parts.forEach((el) => el.setCustomValidity(message));
  form.querySelector(".sum")?.classList.toggle("bad", message !== "");
  const button = form.querySelector("[type=submit]");
  if (button) button.disabled = message !== "";
};

// Operator-aware value input: the value field's placeholder is an example for the chosen operator.
const showExample = (select) => {
  const input = document.getElementById(select.dataset.hintFor);
  const example = select.selectedOptions[0]?.dataset.example;
  if (input && example) input.placeholder = example.split("  or  ")[0];
};

document.addEventListener("input", (event) => {
  const el = event.target;
  if (!(el instanceof HTMLElement)) return;
  if (el.matches("textarea[data-type=json]")) checkJson(el);
  if (el.matches("input[data-mirror]")) {
    const twin = document.getElementById(el.dataset.mirror);
    if (twin) twin.value = el.value;
  }
  if (el.matches("input[data-sum-part]")) {
    const twin = document.getElementById(`${el.id}-range`);
    if (twin) twin.value = el.value;
  }
  const form = el.closest("form[data-sum]");
  if (form) checkSum(form);
});

document.addEventListener("change", (event) => {
  const el = event.target;
  if (el instanceof HTMLSelectElement && el.dataset.hintFor) showExample(el);
});

document.querySelectorAll("form[data-sum]").forEach(checkSum);
document.querySelectorAll("select[data-hint-for]").forEach(showExample);

// data-reveal="id" on a form: after success its answer fills the [data-field="name"] elements of
// that (hidden) element, which is then shown — a secret the server shows this once. The form is reset.
document.addEventListener("api:done", (event) => {
  const form = event.target;
  const box = form instanceof HTMLFormElement && form.dataset.reveal && document.getElementById(form.dataset.reveal);
  if (!box) return;
  box.querySelectorAll("[data-field]").forEach((el) => { el.textContent = String(event.detail?.[el.dataset.field] ?? ""); });
  box.hidden = false;
  form.reset();
  box.setAttribute("tabindex", "-1");
  box.focus();
});

// data-copy="selector" on a button copies the text of that element to the clipboard.
// data-download="file name" on a link to the API fetches it with the page's tenant and saves it.
document.addEventListener("click", async (event) => {
  const el = event.target instanceof Element && event.target.closest("[data-copy], a[data-download]");
  if (!el) return;
  if (el.matches("[data-copy]")) {
    const source = document.querySelector(el.dataset.copy);
    try {
      await navigator.clipboard.writeText(source?.textContent ?? "");
      el.textContent = "Copied";
    } catch {
      el.textContent = "Copy failed: select the text";
    }
    return;
  }
  event.preventDefault();
  const alert = el.parentElement?.querySelector("[role=alert]");
  const { tenant, project } = document.body.dataset;
  const headers = {};
  if (tenant) headers["X-Tenant-ID"] = tenant;
  if (project) headers["X-Project"] = project;
  try {
    const response = await fetch(el.href, { headers, credentials: "same-origin" });
    if (!response.ok) {
      const answer = await response.json().catch(() => null);
      throw new Error(answer?.error?.message || `the server answered ${response.status}`);
    }
    const url = URL.createObjectURL(await response.blob());
    const save = document.createElement("a");
    save.href = url;
    save.download = el.dataset.download;
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
    if (alert) alert.hidden = true;
  } catch (error) {
    if (alert) { alert.textContent = `Could not export: ${error.message}`; alert.hidden = false; }
  }
});

// Reordering: an <ol data-reorder="form-id"> whose items carry data-id can be reordered by dragging
// or with their data-move="up|down" buttons; the new order goes into the form's data-type="json"
// field as a list of ids, and the form is submitted.
const saveOrder = (list) => {
  const form = document.getElementById(list.dataset.reorder);
  const field = form?.querySelector("input[data-type=json]");
  if (!form || !field) return;
  field.value = JSON.stringify([...list.children].map((item) => Number(item.dataset.id)));
  form.requestSubmit();
};

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element && event.target.closest("[data-move]");
  const item = button?.closest("[data-id]");
  const list = item?.parentElement;
  if (!button || !list?.dataset.reorder) return;
  const other = button.dataset.move === "up" ? item.previousElementSibling : item.nextElementSibling;
  if (!other) return;
  if (button.dataset.move === "up") other.before(item); else other.after(item);
  saveOrder(list);
});

let dragged = null;
document.addEventListener("dragstart", (event) => {
  const item = event.target instanceof Element && event.target.closest("[data-reorder] > [data-id]");
  if (!item) return;
  dragged = item;
  item.classList.add("dragging");
  event.dataTransfer.effectAllowed = "move";
});
document.addEventListener("dragover", (event) => {
  const over = event.target instanceof Element && event.target.closest("[data-reorder] > [data-id]");
  if (!dragged || !over || over === dragged || over.parentElement !== dragged.parentElement) return;
  event.preventDefault();
  const box = over.getBoundingClientRect();
  if (event.clientY < box.top + box.height / 2) over.before(dragged); else over.after(dragged);
});
document.addEventListener("dragend", () => {
  if (!dragged) return;
  const list = dragged.parentElement;
  dragged.classList.remove("dragging");
  dragged = null;
  saveOrder(list);
});

// Bulk changes: a form[data-bulk="/api/…/{id}/…"] sends its submitter's name=value as JSON to that
// path once per checked [data-bulk-item form=the form's id], one after another, then reloads; the
// first refusal stops it and is shown.
const bulkItems = (form) => [...document.querySelectorAll(`input[data-bulk-item][form="${form.id}"]`)];

const countBulk = (form) => {
  const checked = bulkItems(form).filter((el) => el.checked).length;
  const label = form.querySelector("[data-bulk-count]");
  if (label) label.textContent = checked ? `${checked} selected` : "No flag selected";
  form.querySelectorAll("[type=submit]").forEach((b) => { b.disabled = checked === 0; });
};

document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (!(form instanceof HTMLFormElement) || !form.dataset.bulk) return;
  event.preventDefault();
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
  const submitter = event.submitter;
  const body = { [submitter.name]: submitter.value === "true" ? true : submitter.value === "false" ? false : submitter.value };
  const { tenant, project, environment } = document.body.dataset;
  const headers = {
    "Content-Type": "application/json", "X-CSRF-Token": csrfToken(),
    "X-Tenant-ID": tenant, "X-Project": project, "X-Environment": environment,
  };
  form.querySelectorAll("[type=submit]").forEach((b) => { b.disabled = true; });
  for (const item of bulkItems(form).filter((el) => el.checked)) {
    const response = await fetch(form.dataset.bulk.replace("{id}", encodeURIComponent(item.value)), {
      method: "PUT", headers, body: JSON.stringify(body), credentials: "same-origin",
    }).catch((error) => ({ ok: false, statusText: error.message, json: async () => ({}) }));
    if (!response.ok) {
      const answer = await response.json().catch(() => ({}));
      showError(form, answer?.error?.message || `The server answered ${response.status ?? response.statusText}.`);
      countBulk(form);
      return;
    }
  }
  window.location.reload();
});

document.addEventListener("change", (event) => {
  const el = event.target;
  if (!(el instanceof HTMLInputElement) || !el.form?.dataset.bulk) return;
  if (el.hasAttribute("data-bulk-all")) bulkItems(el.form).forEach((item) => { item.checked = el.checked; });
  countBulk(el.form);
});

document.querySelectorAll("form[data-bulk]").forEach(countBulk);

// Times: the server writes the relative text and the exact time in UTC as the title; the title
// becomes the exact time in the browser's own time zone.
const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });
document.querySelectorAll("time[datetime][title]").forEach((el) => {
  const at = new Date(el.dateTime);
  if (!Number.isNaN(at.getTime())) el.title = localTime.format(at);
});
