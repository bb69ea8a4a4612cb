// The customer's setup page. It talks only to bucketlink's public HTTP API; `config.js`, written
// by whoever hosts the page, says where that is and supplies the caller's token.
"use strict";

const config = window.BUCKETLINK_CONFIG || {};
const $ = (id) => document.getElementById(id);

const CHECK_LABELS = {
  role_assumable: "We can assume the role",
  external_id_required: "The role requires our external ID",
  bucket_region: "The bucket exists (and its region)",
  list_objects: "Objects can be listed",
  object_read: "Data rows can be read",
  cors: "Your browser may load them (CORS)",
  external_id_rotation: "External ID rotation",
  next_provider_principal: "The role trusts our next principal",
};
const STATUS_LABELS = {
  awaiting_role: "Waiting for the role",
  unverified: "Not verified yet",
  healthy: "Healthy",
  failing: "Failing",
  insecure: "Insecure",
};
const VERDICT_LABELS = { pass: "Passed", warn: "Warning", fail: "Failed", error: "No verdict", skip: "Skipped" };

class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super(problem.detail || problem.title || problem.message || `HTTP ${status}`);
    this.status = status;
    this.code = problem.code || "";
    this.title = problem.title || "";
    this.retryAfter = retryAfter;
  }
}

function idempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function api(method, path, body, { idempotent = false } = {}) {
  const headers = { Authorization: `Bearer ${await config.token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (idempotent) headers["Idempotency-Key"] = idempotencyKey();
  let response;
  try {
    response = await fetch(config.api.replace(/\/$/, "") + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { title: "The bucketlink API could not be reached", detail: "Check your connection, then try again." });
  }
  const text = await response.text();
  let parsed = {};
  try {
    parsed = text ? JSON.parse(text) : {};
  } catch (e) {
    parsed = { detail: text };
  }
  if (!response.ok) throw new ApiError(response.status, parsed, response.headers.get("Retry-After"));
  return parsed;
}

// ---- what the page shows --------------------------------------------------------------------

let current = null;

function showProblem(error) {
  const box = $("problem");
  if (!error) {
    box.hidden = true;
    box.textContent = "";
    return;
  }
  box.textContent = "";
  const title = document.createElement("strong");
  title.textContent = error.title || "Something went wrong";
  const detail = document.createElement("p");
  detail.textContent = error.message;
  box.append(title, detail);
  if (error.code) {
    const code = document.createElement("p");
    code.className = "muted";
    code.textContent = `Code: ${error.code}`;
    box.append(code);
  }
  if (error.retryAfter) {
    const retry = document.createElement("p");
    retry.textContent = `Try again in ${error.retryAfter} seconds.`;
    box.append(retry);
  }
  box.hidden = false;
  box.focus();
}

async function busy(button, work) {
  showProblem(null);
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    await work();
  } catch (e) {
    showProblem(e instanceof ApiError ? e : new ApiError(0, { title: "Something went wrong", detail: String(e) }));
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

function pretty(value) {
  return JSON.stringify(value, null, 2);
}

function downloadLink(anchor, text, type) {
  if (anchor.href.startsWith("blob:")) URL.revokeObjectURL(anchor.href);
  anchor.href = URL.createObjectURL(new Blob([text], { type }));
}

function renderSetup(view) {
  $("principal").textContent = view.provider_principal;
  $("external-id").textContent = view.external_id;
  const setup = view.setup;
  $("role").hidden = !setup;
  $("attach-section").hidden = !setup;
  if (!setup) return;
  const cfn = setup.cloudformation;
  $("role-name").textContent = cfn.stack_name;
  $("cli-commands").textContent = setup.cli_commands.join("\n\n");
  $("trust-policy").textContent = pretty(setup.trust_policy);
  $("permission-policy").textContent = pretty(setup.permission_policy);
  $("stack-name").textContent = cfn.stack_name;
  $("quick-create").hidden = !cfn.quick_create_url;
  if (cfn.quick_create_url) $("quick-create-link").href = cfn.quick_create_url;
  downloadLink($("template-download"), cfn.template_body, "application/x-yaml");
  const rows = $("cfn-parameters");
  rows.textContent = "";
  for (const p of cfn.parameters) {
    const tr = document.createElement("tr");
    const key = document.createElement("th");
    key.scope = "row";
    key.textContent = p.ParameterKey;
    const value = document.createElement("td");
    const code = document.createElement("code");
    code.textContent = p.ParameterValue || "(empty)";
    value.append(code);
    tr.append(key, value);
    rows.append(tr);
  }
  downloadLink($("tf-download"), setup.terraform.configuration, "text/plain");
  $("tfvars").textContent = setup.terraform.tfvars;
}

function renderChecks(view) {
  const attached = Boolean(view.role_arn);
  $("checks-section").hidden = !attached;
  $("preview-section").hidden = !attached;
  if (!attached) return;
  const status = $("status");
  status.textContent = STATUS_LABELS[view.status] || view.status;
  status.dataset.status = view.status;
  $("checked-at").textContent = view.last_checked_at ? `checked ${new Date(view.last_checked_at).toLocaleString()}` : "";
  $("notice").hidden = !view.notice;
  $("notice").textContent = view.notice || "";
  const list = $("checks");
  list.textContent = "";
  for (const check of view.checks || []) {
    const item = document.createElement("li");
    item.dataset.check = check.name;
    item.dataset.status = check.status;
    const head = document.createElement("div");
    head.className = "check-head";
    const badge = document.createElement("span");
    badge.className = "badge";
    badge.dataset.status = check.status;
    badge.textContent = VERDICT_LABELS[check.status] || check.status;
    const name = document.createElement("strong");
    name.textContent = CHECK_LABELS[check.name] || check.name;
    head.append(badge, name);
    const message = document.createElement("p");
    message.textContent = check.message;
    item.append(head, message);
    if (check.code && check.status !== "pass") {
      const code = document.createElement("p");
      code.className = "muted";
      code.textContent = `Code: ${check.code}`;
      item.append(code);
    }
    if (check.remediation && check.status !== "pass") {
      const fix = document.createElement("div");
      fix.className = "fix block";
      const label = document.createElement("strong");
      label.textContent = "How to fix it";
      const text = document.createElement("pre");
      text.className = "remediation";
      text.textContent = check.remediation;
      const copy = document.createElement("button");
      copy.type = "button";
      copy.className = "copy";
      copy.textContent = "Copy";
      copy.setAttribute("aria-label", `Copy the fix for: ${name.textContent}`);
      copy.addEventListener("click", () => copyText(check.remediation, copy));
      fix.append(label, text, copy);
      item.append(fix);
    }
    list.append(item);
  }
  const history = $("history");
  history.textContent = "";
  for (const entry of view.history || []) {
    const li = document.createElement("li");
    li.textContent = `${new Date(entry.checked_at).toLocaleString()}: ${STATUS_LABELS[entry.status] || entry.status}`;
    history.append(li);
  }
}

function render(view) {
  current = view;
  $("name").value = view.name || "";
  if (view.bucket) $("bucket").value = view.bucket;
  $("prefix").value = view.prefix || "";
  $("kms").value = view.kms_key_arn || "";
  if (view.role_arn && !$("role-arn").value) $("role-arn").value = view.role_arn;
  for (const field of ["name", "bucket", "prefix", "kms"]) $(field).readOnly = true;
  $("create").hidden = true;
  $("start-over").hidden = false;
  renderSetup(view);
  renderChecks(view);
}

async function load(id) {
  render(await api("GET", `/integrations/${encodeURIComponent(id)}`));
  await loadObjects();
}

function remember(id) {
  const url = new URL(window.location.href);
  url.searchParams.set("integration", id);
  window.history.replaceState(null, "", url);
}

// ---- the data row preview -------------------------------------------------------------------

function objectUrl(input) {
  const text = input.trim();
  if (/^(s3|https?):\/\//i.test(text)) return text;
  const key = text.startsWith("/") ? text.slice(1) : text;
  const prefix = current.prefix || "";
  return `s3://${current.bucket}/${key.startsWith(prefix) ? key : prefix + key}`;
}

function previewMessage(text, ok) {
  const result = $("preview-result");
  result.textContent = text;
  result.dataset.loaded = String(ok);
}

// The image is loaded with CORS (crossOrigin) and drawn; reading its pixels back proves that the
// bucket let this origin read it, as the app will.
function drawImage(signedUrl) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.crossOrigin = "anonymous";
    image.onload = () => {
      const canvas = $("preview-canvas");
      // Small images are drawn bigger (pixelated, as they are), large ones fit the column.
      const scale = Math.min(480 / image.naturalWidth, Math.max(1, 160 / image.naturalWidth));
      canvas.width = Math.max(1, Math.round(image.naturalWidth * scale));
      canvas.height = Math.max(1, Math.round(image.naturalHeight * scale));
      const context = canvas.getContext("2d");
      context.imageSmoothingEnabled = scale < 1;
      context.drawImage(image, 0, 0, canvas.width, canvas.height);
      try {
        context.getImageData(0, 0, 1, 1);
      } catch (e) {
        reject(new Error("the image loaded but without CORS, so the app could not use it"));
        return;
      }
      resolve({ width: image.naturalWidth, height: image.naturalHeight });
    };
    image.onerror = () => reject(new Error("the browser refused it (usually the bucket's CORS rules) or S3 refused the URL"));
    image.src = signedUrl;
  });
}

async function preview(input) {
  const url = objectUrl(input);
  const signed = await api("POST", `/integrations/${encodeURIComponent(current.id)}/sign`, { urls: [url], expires_in: 300 });
  const row = signed.results[0];
  if (row.error) {
    previewMessage(`We did not sign it: ${row.error.message} (${row.error.code})`, false);
    return;
  }
  let response;
  try {
    response = await fetch(row.signed_url);
  } catch (e) {
    previewMessage("Your browser could not load it: the bucket's CORS rules do not allow this page's origin. See the CORS check above.", false);
    return;
  }
  if (!response.ok) {
    previewMessage(`S3 answered ${response.status} for the signed URL.`, false);
    return;
  }
  const type = response.headers.get("Content-Type") || "";
  const bytes = (await response.arrayBuffer()).byteLength;
  const canvas = $("preview-canvas");
  canvas.width = 0;
  canvas.height = 0;
  if (!type.startsWith("image/")) {
    previewMessage(`Loaded ${bytes} bytes of ${type || "unknown type"} through a signed URL (valid until ${new Date(row.expires_at).toLocaleTimeString()}).`, true);
    return;
  }
  try {
    const size = await drawImage(row.signed_url);
    previewMessage(`Loaded and drew a ${size.width}×${size.height} image (${bytes} bytes) through a signed URL (valid until ${new Date(row.expires_at).toLocaleTimeString()}).`, true);
  } catch (e) {
    previewMessage(`Your browser could not draw it: ${e.message}.`, false);
  }
}

async function loadObjects() {
  const list = $("objects");
  list.textContent = "";
  if (!current || !current.role_arn) return;
  const page = await api("GET", `/integrations/${encodeURIComponent(current.id)}/objects?limit=20`);
  for (const record of page.items) {
    const li = document.createElement("li");
    const key = document.createElement("code");
    key.textContent = record.key;
    const code = document.createElement("span");
    code.className = "badge";
    code.dataset.status = record.code === "READY" ? "pass" : "fail";
    code.textContent = record.code === "READY" ? `ready (${record.data_type})` : record.code;
    li.append(code, " ", key);
    if (record.code !== "READY") {
      const why = document.createElement("p");
      why.className = "muted";
      why.textContent = record.reason;
      li.append(why);
    } else if (record.data_type === "image") {
      const use = document.createElement("button");
      use.type = "button";
      use.textContent = "Preview";
      use.setAttribute("aria-label", `Preview ${record.key}`);
      use.addEventListener("click", () => {
        $("preview-key").value = record.key;
        busy(use, () => preview(record.key));
      });
      li.append(" ", use);
    }
    list.append(li);
  }
  if (!page.items.length) {
    const li = document.createElement("li");
    li.className = "muted";
    li.textContent = "None yet: objects are checked as they arrive while the connection is healthy.";
    list.append(li);
  }
}

// ---- copying and tabs -----------------------------------------------------------------------

async function copyText(text, button) {
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = "Copied";
  } catch (e) {
    button.textContent = "Select and copy";
  }
  setTimeout(() => (button.textContent = "Copy"), 2000);
}

function setUpTabs() {
  const tabs = Array.from(document.querySelectorAll('[role="tab"]'));
  const select = (tab) => {
    for (const t of tabs) {
      const selected = t === tab;
      t.setAttribute("aria-selected", String(selected));
      t.tabIndex = selected ? 0 : -1;
      $(t.getAttribute("aria-controls")).hidden = !selected;
    }
    tab.focus();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener("click", () => select(tab));
    tab.addEventListener("keydown", (e) => {
      const next = { ArrowRight: i + 1, ArrowLeft: i - 1, Home: 0, End: tabs.length - 1 }[e.key];
      if (next === undefined) return;
      e.preventDefault();
      select(tabs[(next + tabs.length) % tabs.length]);
    });
  });
}

// ---- wiring ---------------------------------------------------------------------------------

function start() {
  setUpTabs();
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", () => copyText($(button.dataset.copy).textContent, button));
  }
  $("create-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const body = { name: $("name").value.trim() || $("bucket").value.trim(), bucket: $("bucket").value.trim() };
    if ($("prefix").value.trim()) body.prefix = $("prefix").value.trim();
    if ($("kms").value.trim()) body.kms_key_arn = $("kms").value.trim();
    busy($("create"), async () => {
      if (!body.bucket) throw new ApiError(0, { title: "The bucket name is missing", detail: "Enter the name of the bucket to connect." });
      render(await api("POST", "/integrations", body, { idempotent: true }));
      remember(current.id);
      $("role-title").scrollIntoView({ block: "start" });
    });
  });
  $("start-over").addEventListener("click", () =>
    busy($("start-over"), async () => {
      if (!window.confirm("Delete this connection and start again? A role you created for it stops working with us.")) return;
      await api("DELETE", `/integrations/${encodeURIComponent(current.id)}`);
      window.location.search = "";
    })
  );
  $("attach-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const roleArn = $("role-arn").value.trim();
    const body = { name: current.name || current.bucket, bucket: current.bucket, role_arn: roleArn, prefix: current.prefix || "" };
    if (current.kms_key_arn) body.kms_key_arn = current.kms_key_arn;
    busy($("attach"), async () => {
      if (!roleArn) throw new ApiError(0, { title: "The role ARN is missing", detail: "Paste the ARN of the role you created in step 2." });
      render(await api("PUT", `/integrations/${encodeURIComponent(current.id)}`, body, { idempotent: true }));
      await loadObjects();
      $("checks-title").focus();
    });
  });
  $("refresh").addEventListener("click", () =>
    busy($("refresh"), async () => {
      render(await api("POST", `/integrations/${encodeURIComponent(current.id)}/validate`));
      await load(current.id);
    })
  );
  $("preview-form").addEventListener("submit", (e) => {
    e.preventDefault();
    busy($("preview"), () => preview($("preview-key").value));
  });
  $("checks-title").tabIndex = -1;
  $("problem").tabIndex = -1;
  const id = new URLSearchParams(window.location.search).get("integration");
  if (id) busy($("create"), () => load(id));
}

if (!config.api || typeof config.token !== "function") {
  document.addEventListener("DOMContentLoaded", () =>
    showProblem(new ApiError(0, { title: "This page is not configured", detail: "config.js must set window.BUCKETLINK_CONFIG = {api, token}." }))
  );
} else {
  document.addEventListener("DOMContentLoaded", start);
}
