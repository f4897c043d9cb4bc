// Flagent admin UI behaviour. Pages are rendered by the server; this script only:
// - submits forms marked data-api to the JSON API (with the session's CSRF token and the page's
//   tenant, project and environment), shows the API's error message in the form, marks the field it
//   names, and on success goes to data-next (with {field} replaced from the answer) or reloads;
// - asks before data-confirm actions;
// - submits data-autosubmit selects when they change;
// - focuses the element with data-hotkey when its key is pressed outside a text field.

const csrfToken = () => {
  const entry = document.cookie.split("; ").find((c) => c.startsWith("flagent_csrf="));
  return entry ? decodeURIComponent(entry.slice("flagent_csrf=".length)) : "";
};

// The form's fields as JSON: data-type="number" | "json" | "boolean" on an element converts it;
// a checkbox gives a boolean; fields without a name and empty optional numbers are left out.
const formBody = (form) => {
  const body = {};
  for (const el of form.elements) {
    if (!el.name || el.disabled) continue;
    const type = el.dataset.type;
    if (el.type === "checkbox") { body[el.name] = el.checked; continue; }
    if (type === "number") { if (el.value !== "") body[el.name] = Number(el.value); continue; }
    if (type === "json") { body[el.name] = el.value.trim() === "" ? null : JSON.parse(el.value); continue; }
    if (type === "boolean") { body[el.name] = el.value === "true"; continue; }
    body[el.name] = el.value;
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
  if (form instanceof HTMLFormElement && form.dataset.api) submitToApi(form, event);
  else if (form instanceof HTMLFormElement && form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
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
