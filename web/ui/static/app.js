// Flagent admin UI behaviour. Pages are rendered by the server; this script only:
// - submits forms marked data-api to the JSON API (with the session's CSRF token and the page's
//   tenant, project and environment), shows the API's error message in the form, marks the field it
//   names, and on success goes to data-next (with {field} replaced from the answer) or reloads;
// - asks before data-confirm actions;
// - submits data-autosubmit selects when they change;
// - focuses the element with data-hotkey when its key is pressed outside a text field;
// - shows one of several server-rendered inputs (data-switch, data-kinds-for, data-filter-by), checks
//   values as they are typed (JSON, semver, lists, regular expressions), and remembers what a form
//   sent in this browser (data-remember). Each is described where it is implemented below.
// - edits lists of rows (data-rows: add, remove, reorder), reads a chosen file into a field
//   (data-read-into), limits how many boxes of a fieldset are checked (data-most), and opens a URL the
//   API answers with in a new tab (data-open).
// - shows each <time>'s exact moment in the browser's time zone as its title.
// - on the sign-in page, offers the identity providers of the organisation that verified the typed
//   email's domain (data-sso-offer).

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

// Lines of a data-type="lines" field: trimmed, empty ones left out; numbers when data-items="number".
const listItems = (el) => {
  const items = el.value.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  if (el.dataset.items !== "number") return items;
  return items.map((item) => {
    const number = Number(item);
    if (item === "" || !Number.isFinite(number)) throw new Error(`${item} is not a number`);
    return number;
  });
};

// A datetime-local value ("2026-01-01T09:30" or with seconds), read as UTC, as an RFC 3339 text.
const utcStamp = (value) => `${value.length === 16 ? `${value}:00` : value}Z`;

// One field's value as the form sends it, by its data-type:
// "number" a number; "json" parsed JSON; "boolean" true or false; "datetime" a local time as RFC 3339;
// "quoted" the text as a JSON string, after data-prefix if any (semver:"1.2.3");
// "number-text" a number's text ("18"); "time-literal" a UTC date and time as time:"…Z";
// "lines" the lines as a JSON array text (["CA","US"], or [1,2] with data-items="number");
// "words" the words as an array (["openid","email"]); "pem" the PEM blocks as an array, or the
// non-empty lines when there is no PEM armour (certificates); a checkbox its checked state; anything
// else its text.
const fieldValue = (el) => {
  switch (el.dataset.type) {
    case "datetime": return new Date(el.value).toISOString();
    case "number": return Number(el.value);
    case "json":
      if (el.value.trim() === "") return null;
      try { return JSON.parse(el.value); } catch (error) { throw new Error(`Not valid JSON: ${error.message}`); }
    case "boolean": return el.value === "true";
    case "quoted": return (el.dataset.prefix ?? "") + JSON.stringify(el.value);
    case "number-text": return String(Number(el.value));
    case "time-literal": return `time:${JSON.stringify(utcStamp(el.value))}`;
    case "lines": return JSON.stringify(listItems(el));
    case "words": return el.value.split(/\s+/).filter((word) => word !== "");
    case "pem": {
      const blocks = el.value.match(/-----BEGIN [^-]+-----[\s\S]*?-----END [^-]+-----/g);
      return blocks ?? el.value.split("\n").map((line) => line.trim()).filter((line) => line !== "");
    }
    default: return el.type === "checkbox" ? el.checked : el.value;
  }
};

// The form's fields as JSON (see fieldValue), over the form's data-body (a JSON object) if it has
// one; dotted names ("distributions.0.percent") build nested objects and arrays; fields without a
// name, disabled ones (or inside a disabled fieldset) and empty optional ones are left out.
const formBody = (form) => {
  const body = form.dataset.body ? JSON.parse(form.dataset.body) : {};
  const lists = new Set();
  for (const el of form.elements) {
    if (!el.name || el.matches(":disabled")) continue;
    const type = el.dataset.type;
    // data-type="list": checkboxes sharing a name give the array of the checked ones' values
    // (numbers with data-items="number").
    if (type === "list") {
      if (!lists.has(el.name)) { lists.add(el.name); body[el.name] = []; }
      if (el.checked) body[el.name].push(el.dataset.items === "number" ? Number(el.value) : el.value);
      continue;
    }
    // data-type="optional" | "datetime" | "number" | "number-text": left out when empty.
    if (["optional", "datetime", "number", "number-text"].includes(type) && el.value === "") continue;
    setPath(body, el.name, fieldValue(el));
  }
  return body;
};

// The enabled element a field name (as an API error names it) stands for: one whose data-error-field
// (space-separated) lists it, else the field of that name (the first enabled one when several share
// it), else a field whose dotted name ends with it ("oidc.issuer" for "issuer").
const namedField = (form, name) => {
  const enabled = (el) => !el.matches(":disabled");
  const marked = [...form.querySelectorAll("[data-error-field]")]
    .find((el) => el.dataset.errorField.split(" ").includes(name) && enabled(el));
  if (marked) return marked;
  const found = form.elements.namedItem(name);
  if (found instanceof RadioNodeList) return [...found].find(enabled) ?? null;
  if (found) return found;
  return [...form.elements].find((el) => el.name?.endsWith(`.${name}`) && enabled(el)) ?? null;
};

const showError = (form, message, field) => {
  form.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  form.querySelectorAll(".field-error").forEach((el) => el.remove());
  const alert = form.querySelector("[role=alert]");
  const input = field && namedField(form, field.split(/[.[]/)[0]);
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
    showError(form, error.message);
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

// Marks a field invalid with `message` (or clears it with ""), in a note after it: the form cannot be
// sent while a field is marked.
const mark = (el, message) => {
  el.setCustomValidity(message);
  if (message) el.setAttribute("aria-invalid", "true");
  else el.removeAttribute("aria-invalid");
  let note = document.getElementById(`${el.id}-check`);
  if (!note) {
    note = document.createElement("span");
    note.id = `${el.id}-check`;
    note.className = "field-error";
    note.setAttribute("aria-live", "polite");
    el.insertAdjacentElement("afterend", note);
  }
  note.textContent = message;
};

// JSON fields validate as you type: an invalid document marks the field and says why.
const checkJson = (el) => {
  let message = "";
  if (el.value.trim() !== "") {
    try { JSON.parse(el.value); } catch (error) { message = `Not valid JSON: ${error.message}`; }
  }
  mark(el, message);
};

// data-check="semver": a semantic version (a leading v allowed), as the server reads it.
const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;
const checkSemver = (el) => {
  const value = el.value.trim();
  mark(el, value === "" || SEMVER.test(value) ? "" : "Not a semantic version: write it as 1.2.3 or 1.2.3-beta.1");
};

// data-type="lines": at least one item, and with data-items="number" only numbers.
const checkLines = (el) => {
  let message = "";
  try {
    if (el.value.trim() !== "" && listItems(el).length === 0) message = "Enter at least one item";
  } catch (error) {
    message = `One item per line: ${error.message}`;
  }
  mark(el, message);
};

// A regular expression as JavaScript can read it: a leading inline-flags group "(?i)" becomes flags.
// Rust's syntax (the server's) is not JavaScript's: what JavaScript cannot read is only flagged here,
// and the server's answer decides.
const jsRegex = (pattern) => {
  let body = pattern;
  let flags = "";
  const inline = /^\(\?([a-zA-Z]+)\)/.exec(pattern);
  if (inline) {
    if (!/^[ims]+$/.test(inline[1])) throw new Error(`the flags (?${inline[1]}) are not JavaScript's`);
    flags = inline[1];
    body = pattern.slice(inline[0].length);
  }
  try {
    return new RegExp(body, `${flags}u`);
  } catch {
    return new RegExp(body, flags);
  }
};

// input[data-regex-sample="id"]: tests the pattern against the sample in element #id and says so in
// #id-result: a match, no match, or that JavaScript cannot read the pattern.
const testRegex = (el) => {
  const sample = document.getElementById(el.dataset.regexSample);
  const result = sample && document.getElementById(`${sample.id}-result`);
  if (!result) return;
  let regex = null;
  let problem = "";
  try { regex = jsRegex(el.value); } catch (error) { problem = error.message; }
  if (problem) el.setAttribute("aria-invalid", "true");
  else el.removeAttribute("aria-invalid");
  result.classList.remove("match", "no-match", "warn");
  if (problem) {
    result.textContent = `JavaScript cannot read this pattern (${problem}); the server checks it when it is saved.`;
    result.classList.add("warn");
  } else if (el.value === "" || sample.value === "") {
    result.textContent = "Type a sample to test the pattern.";
  } else if (regex.test(sample.value)) {
    result.textContent = "Matches";
    result.classList.add("match");
  } else {
    result.textContent = "No match";
    result.classList.add("no-match");
  }
};

// output[data-shows="name"] in a form shows what the form would send as `name` (blank while its
// field is empty or cannot be read).
const showSent = (form) => {
  const outputs = form.querySelectorAll("output[data-shows]");
  if (outputs.length === 0) return;
  let body = {};
  try { body = formBody(form); } catch { body = {}; }
  outputs.forEach((out) => {
    const field = namedField(form, out.dataset.shows);
    const value = field && "value" in field && field.value === "" ? undefined : body[out.dataset.shows];
    out.textContent = value === undefined ? "" : typeof value === "string" ? value : JSON.stringify(value);
  });
};

// select[data-switch="group"]: of the elements [data-case-of="group"], only those whose data-case
// (one value, or several separated by spaces) holds the selected value are shown and enabled (a
// fieldset disables every field in it), so only their fields are sent.
const applySwitch = (select) => {
  const scope = select.form ?? document;
  scope.querySelectorAll(`[data-case-of="${CSS.escape(select.dataset.switch)}"]`).forEach((el) => {
    const on = el.dataset.case.split(" ").includes(select.value);
    el.hidden = !on;
    el.disabled = !on;
  });
  if (select.form) showSent(select.form);
};

// select[data-kinds-for="id"]: its selected option's data-kinds (space-separated) are the options
// select #id may offer; the others are hidden, and when its choice is not among them, it takes the
// first (so picking IN switches to the list editor).
const applyKinds = (select) => {
  const target = document.getElementById(select.dataset.kindsFor);
  if (!(target instanceof HTMLSelectElement)) return;
  const kinds = (select.selectedOptions[0]?.dataset.kinds ?? "").split(" ").filter(Boolean);
  for (const option of target.options) {
    const allowed = kinds.includes(option.value);
    option.hidden = !allowed;
    option.disabled = !allowed;
  }
  if (!kinds.includes(target.value) && kinds.length) target.value = kinds[0];
  if (target.dataset.switch) applySwitch(target);
};

// select[data-filter-by="id"]: its children with data-filter (options or optgroups) are offered only
// when data-filter equals the value of #id; the others are hidden, and a hidden choice falls back to
// the first option (a flag's variants, say, follow the flag chosen).
const applyFilter = (select) => {
  const source = document.getElementById(select.dataset.filterBy);
  if (!source) return;
  for (const el of select.querySelectorAll("[data-filter]")) {
    const on = el.dataset.filter === source.value;
    el.hidden = !on;
    el.disabled = !on;
  }
  const chosen = select.selectedOptions[0];
  if (!chosen || chosen.matches(":disabled")) select.selectedIndex = 0;
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

document.addEventListener("input", (event) => {
  const el = event.target;
  if (!(el instanceof HTMLElement)) return;
  if (el.matches("textarea[data-type=json]")) checkJson(el);
  if (el.matches("[data-check=semver]")) checkSemver(el);
  if (el.matches("textarea[data-type=lines]")) checkLines(el);
  if (el.matches("input[data-regex-sample]")) testRegex(el);
  const sampled = el.id && document.querySelector(`input[data-regex-sample="${CSS.escape(el.id)}"]`);
  if (sampled) testRegex(sampled);
  if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement || el instanceof HTMLSelectElement) {
    if (el.form) showSent(el.form);
  }
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
  if (!(el instanceof HTMLSelectElement)) return;
  if (el.dataset.kindsFor) applyKinds(el);
  if (el.dataset.switch) applySwitch(el);
  if (el.id) document.querySelectorAll(`select[data-filter-by="${CSS.escape(el.id)}"]`).forEach(applyFilter);
  if (el.form) showSent(el.form);
});

document.querySelectorAll("form[data-sum]").forEach(checkSum);
document.querySelectorAll("select[data-filter-by]").forEach(applyFilter);
document.querySelectorAll("input[data-regex-sample]").forEach(testRegex);
document.querySelectorAll("output[data-shows]").forEach((out) => { if (out.form) showSent(out.form); });

// data-reveal="id" on a form: after success its answer fills the [data-field="name"] elements of
// that (hidden) element, which is then shown — a secret the server shows this once. The form is reset.
// data-open="field" on a form: after success the answer's URL in that field opens in a new tab, and
// the form's [data-opened] note (with a [data-opened-link] to the same URL, should no tab open) is shown.
document.addEventListener("api:done", (event) => {
  const form = event.target;
  const url = form instanceof HTMLFormElement && form.dataset.open && event.detail?.[form.dataset.open];
  if (typeof url !== "string" || !/^https?:/i.test(new URL(url, window.location.href).protocol)) return;
  window.open(url, "_blank", "noopener");
  const note = form.querySelector("[data-opened]");
  const link = note?.querySelector("[data-opened-link]");
  if (link) link.href = url;
  if (note) note.hidden = false;
});

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

// Remembered entries: form[data-remember="storage key"][data-remember-fields="a b"] keeps, in this
// browser's localStorage under that key, the last 10 distinct sets of those fields' values, newest
// first; the server marks the form data-remember-now when its values were just used (an evaluation
// that ran), and they are saved then. The section[data-recent-for="form id"] lists them as buttons
// that fill the form, with a [data-recent-clear] button that forgets them.
const RECENT_LIMIT = 10;

const readRecent = (key) => {
  try {
    const list = JSON.parse(window.localStorage.getItem(key) ?? "[]");
    return Array.isArray(list) ? list.filter((entry) => entry && typeof entry === "object") : [];
  } catch {
    return [];
  }
};

const writeRecent = (key, list) => {
  try {
    if (list.length) window.localStorage.setItem(key, JSON.stringify(list));
    else window.localStorage.removeItem(key);
  } catch {
    // Storage is full or turned off: nothing is remembered.
  }
};

// The form's remembered fields; a JSON field is kept compact, so the same document typed with other
// spacing is the same entry.
const rememberedValues = (form) => {
  const entry = {};
  for (const name of form.dataset.rememberFields.split(" ").filter(Boolean)) {
    const el = form.elements.namedItem(name);
    if (!(el instanceof HTMLElement) || !("value" in el)) continue;
    let value = el.value.trim();
    if (el.dataset.type === "json" && value !== "") {
      try { value = JSON.stringify(JSON.parse(value)); } catch { /* kept as typed */ }
    }
    entry[name] = value;
  }
  return entry;
};

const remember = (form) => {
  const entry = rememberedValues(form);
  if (Object.values(entry).every((value) => value === "")) return;
  const same = JSON.stringify(entry);
  const list = readRecent(form.dataset.remember).filter((old) => JSON.stringify(old) !== same);
  writeRecent(form.dataset.remember, [entry, ...list].slice(0, RECENT_LIMIT));
};

const showRecent = (form) => {
  const section = document.querySelector(`[data-recent-for="${CSS.escape(form.id)}"]`);
  const list = section?.querySelector("ol, ul");
  if (!section || !list) return;
  const entries = readRecent(form.dataset.remember);
  list.replaceChildren(...entries.map((entry, index) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "recent-pick";
    button.dataset.recentIndex = String(index);
    Object.values(entry).forEach((value, i) => {
      if (i > 0 && value === "") return;
      const part = document.createElement(i === 0 ? "strong" : "code");
      part.textContent = String(value);
      if (i > 0) button.append(" ");
      button.append(part);
    });
    item.append(button);
    return item;
  }));
  section.hidden = entries.length === 0;
};

document.addEventListener("click", (event) => {
  const el = event.target instanceof Element && event.target.closest("[data-recent-for] [data-recent-index], [data-recent-for] [data-recent-clear]");
  const section = el?.closest("[data-recent-for]");
  const form = section && document.getElementById(section.dataset.recentFor);
  if (!(form instanceof HTMLFormElement)) return;
  if (el.hasAttribute("data-recent-clear")) {
    writeRecent(form.dataset.remember, []);
    showRecent(form);
    return;
  }
  const entry = readRecent(form.dataset.remember)[Number(el.dataset.recentIndex)];
  if (!entry) return;
  for (const [name, value] of Object.entries(entry)) {
    const field = form.elements.namedItem(name);
    if (!(field instanceof HTMLElement) || !("value" in field)) continue;
    field.value = String(value);
    field.dispatchEvent(new Event("input", { bubbles: true }));
  }
  form.querySelector("[type=submit]")?.focus();
});

document.querySelectorAll("form[data-remember]").forEach((form) => {
  if (form.hasAttribute("data-remember-now")) remember(form);
  showRecent(form);
});

// Times: the server writes the relative text and the exact time in UTC as the title; the title
// becomes the exact time in the browser's own time zone.
const localTime = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "long" });
document.querySelectorAll("time[datetime][title]").forEach((el) => {
  const at = new Date(el.dateTime);
  if (!Number.isNaN(at.getTime())) el.title = localTime.format(at);
});

// Single sign-on on the sign-in page: once an email is typed, ask which identity providers its
// domain signs in through, and offer each as a button to its start URL (with the page's next).
document.querySelectorAll("[data-sso-offer]").forEach((offer) => {
  const email = offer.closest("form")?.elements.namedItem("email");
  if (!(email instanceof HTMLInputElement)) return;
  let asked = "";
  const ask = async () => {
    const value = email.value.trim();
    if (!value.includes("@") || value === asked) return;
    asked = value;
    let providers = [];
    try {
      const response = await fetch("/api/v1/sso/discover", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ email: value }),
      });
      if (response.ok) providers = (await response.json()).providers ?? [];
    } catch {
      providers = [];
    }
    if (asked !== value) return;
    const buttons = offer.querySelector(".sso-buttons");
    buttons.replaceChildren(...providers.map((provider) => {
      const link = document.createElement("a");
      const start = new URL(provider.startURL, window.location.href);
      start.searchParams.set("next", offer.dataset.next || "/ui");
      link.href = start.pathname + start.search;
      link.textContent = `Continue with ${provider.name}`;
      return link;
    }));
    offer.hidden = providers.length === 0;
  };
  email.addEventListener("change", ask);
  email.addEventListener("blur", ask);
});

// Rows editors: an <ol data-rows="name" data-row-ids="prefix" data-row-template="template id"> of
// [data-row] items whose fields carry data-row-field="field" are sent as name.0.field, name.1.field…
// in the rows' order. A [data-row-add="list id"] button appends a copy of the list's <template>, a
// row's [data-row-remove] removes it and its [data-row-move="up|down"] moves it; each change renames
// the fields, their ids and labels, numbers the rows ([data-row-number]; "#" in a data-row-label
// aria-label), and turns off moving the first row up and the last one down.
const renumberRows = (list) => {
  const rows = [...list.children].filter((row) => row.matches("[data-row]"));
  rows.forEach((row, index) => {
    row.querySelectorAll("[data-row-field]").forEach((el) => {
      const field = el.dataset.rowField;
      const label = row.querySelector(`label[data-row-for="${CSS.escape(field)}"]`);
      el.name = `${list.dataset.rows}.${index}.${field}`;
      el.id = `${list.dataset.rowIds}-${index}-${field}`;
      if (label) label.htmlFor = el.id;
    });
    row.querySelectorAll("[data-row-number]").forEach((el) => { el.textContent = String(index + 1); });
    row.querySelectorAll("[data-row-label]").forEach((el) => {
      el.setAttribute("aria-label", el.dataset.rowLabel.replace("#", String(index + 1)));
    });
    row.querySelectorAll("[data-row-move=up]").forEach((el) => { el.disabled = index === 0; });
    row.querySelectorAll("[data-row-move=down]").forEach((el) => { el.disabled = index === rows.length - 1; });
  });
  if (list.closest("form")) showSent(list.closest("form"));
};

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element && event.target.closest("[data-row-add], [data-row-remove], [data-row-move]");
  if (!button) return;
  if (button.matches("[data-row-add]")) {
    const list = document.getElementById(button.dataset.rowAdd);
    const template = list && document.getElementById(list.dataset.rowTemplate);
    if (!(template instanceof HTMLTemplateElement)) return;
    const row = template.content.firstElementChild.cloneNode(true);
    list.append(row);
    renumberRows(list);
    row.querySelector("input, select")?.focus();
    return;
  }
  const row = button.closest("[data-row]");
  const list = row?.parentElement;
  if (!list?.dataset.rows) return;
  if (button.matches("[data-row-remove]")) {
    const next = row.nextElementSibling ?? row.previousElementSibling;
    row.remove();
    renumberRows(list);
    const add = document.querySelector(`[data-row-add="${CSS.escape(list.id)}"]`);
    (next?.querySelector("[data-row-remove]") ?? add)?.focus();
    return;
  }
  const up = button.dataset.rowMove === "up";
  const other = up ? row.previousElementSibling : row.nextElementSibling;
  if (!other) return;
  if (up) other.before(row); else other.after(row);
  renumberRows(list);
  const again = row.querySelector(`[data-row-move="${up ? "up" : "down"}"]`);
  (again && !again.disabled ? again : row.querySelector(`[data-row-move="${up ? "down" : "up"}"]`))?.focus();
});

document.querySelectorAll("[data-rows]").forEach(renumberRows);

// input[type=file][data-read-into="id"]: the chosen file's text goes into the field #id (an IdP's
// metadata XML), which then checks itself as if typed.
document.addEventListener("change", async (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.readInto) return;
  const target = document.getElementById(input.dataset.readInto);
  const file = input.files?.[0];
  if (!file || !(target instanceof HTMLTextAreaElement || target instanceof HTMLInputElement)) return;
  try {
    target.value = await file.text();
    target.dispatchEvent(new Event("input", { bubbles: true }));
  } catch (error) {
    mark(input, `Could not read ${file.name}: ${error.message}`);
  }
});

// fieldset[data-most="n"]: once n of its checkboxes are checked, the others cannot be checked.
const limitChecks = (fieldset) => {
  const boxes = [...fieldset.querySelectorAll("input[type=checkbox]")];
  const full = boxes.filter((el) => el.checked).length >= Number(fieldset.dataset.most);
  boxes.forEach((el) => { if (!el.checked) el.disabled = full; });
};
document.addEventListener("change", (event) => {
  const fieldset = event.target instanceof Element && event.target.closest("fieldset[data-most]");
  if (fieldset) limitChecks(fieldset);
});
document.querySelectorAll("fieldset[data-most]").forEach(limitChecks);
