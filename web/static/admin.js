/* 江岸企服助手 · 管理后台: a small single-page app over /api/admin (plain ES2017, no build step).
 *
 * Authentication is the HttpOnly session cookie the log-in sets; every call is same-origin.
 * Everything from the server or the user reaches the page through textContent only.
 */
(function () {
  "use strict";

  const API = "/api/admin";
  const state = {
    user: null,
    docs: [],
    docsCall: 0, // the latest documents request; older answers are dropped
    docOffset: 0, // the documents page shown (an offset into the server's list)
    docTotal: 0,
    expanded: new Set(), // doc_ids whose versions are shown
    replacing: null, // doc_id whose replace panel is open
    faqs: [],
    editingFaq: null, // the FAQ entry the form edits (null: a new one)
    safetyVersion: 0, // the sensitive-word list's version the textarea was loaded from
  };
  const STATUS = { live: "当前版本", superseded: "历史版本", rejected: "已拒绝", deleted: "已删除", pending: "处理中" };
  const ACTIONS = {
    upload: "上传", replace: "替换", rollback: "回滚", delete: "删除",
    upload_rejected: "上传被拒", replace_rejected: "替换被拒", rollback_rejected: "回滚被拒",
    create_user: "创建账号", delete_user: "删除账号",
    restore: "恢复删除", recovered: "重启后补完", interrupted: "重启后撤销",
    faq_create: "新增问答", faq_update: "修改问答", faq_delete: "删除问答",
    policy_conditions_edit: "修改申请条件", policy_conditions_reset: "恢复文件中的条件",
    validity_confirmed: "确认有效期", validity_rejected: "驳回有效期",
    sensitive_words_update: "修改敏感词", sensitive_words_reset: "恢复默认敏感词",
  };
  const ROLES = { admin: "管理员", editor: "编辑" };
  const ADMIN_VIEWS = ["safety", "audit", "settings"];
  const META = ["category", "department", "contact"]; // optional upload fields
  const STATS = [
    ["documents", "文档"], ["chunks", "知识片段"], ["faq_entries", "常见问答"],
    ["uploads", "上传的文件"], ["questions_30d", "近 30 天提问"],
  ];

  // --- small DOM helpers -------------------------------------------------------------

  const $ = (selector) => document.querySelector(selector);

  /** An element; `text` becomes textContent, `on*` functions listeners, the rest attributes. */
  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.keys(attrs || {}).forEach((key) => {
      const value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = String(value);
      else if (key.slice(0, 2) === "on" && typeof value === "function") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    });
    (children || []).forEach((child) => {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  function button(text, onclick, cls) {
    return el("button", { type: "button", class: cls || "secondary", text: text, onclick: onclick });
  }

  function td(content, cls) {
    if (content instanceof Node) return el("td", { class: cls }, [content]);
    return el("td", { class: cls, text: content === null || content === undefined || content === "" ? "—" : content });
  }

  function fillTable(table, rows, emptyText) {
    const body = clear(table.querySelector("tbody"));
    if (!rows.length) {
      const cols = table.querySelectorAll("thead th").length;
      body.appendChild(el("tr", {}, [el("td", { colspan: cols, class: "empty", text: emptyText })]));
    }
    rows.forEach((row) => body.appendChild(row));
  }

  function badge(text, cls) {
    return el("span", { class: "badge " + (cls || ""), text: text });
  }

  /** Long text cut to `limit` characters, with a toggle to show all of it. */
  function truncatable(text, limit) {
    text = String(text || "");
    const p = el("p", { text: text });
    if (text.length <= limit) return p;
    const short = text.slice(0, limit) + "…";
    let open = false;
    p.textContent = short;
    const toggle = button("展开", () => {
      open = !open;
      p.textContent = open ? text : short;
      toggle.textContent = open ? "收起" : "展开";
    }, "link");
    return el("div", { class: "truncatable" }, [p, toggle]);
  }

  function plainList(items) {
    return el("ul", { class: "plain" }, items.map((item) => el("li", { text: item })));
  }

  /** Epoch seconds or an ISO string, shown as local "YYYY-MM-DD HH:mm". */
  function formatTime(value) {
    if (value === null || value === undefined || value === "") return "";
    const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    if (isNaN(date.getTime())) return String(value);
    const pad = (n) => String(n).padStart(2, "0");
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) +
      " " + pad(date.getHours()) + ":" + pad(date.getMinutes());
  }

  function formatSize(bytes) {
    if (typeof bytes !== "number") return "";
    return bytes < 1024 * 1024 ? (bytes / 1024).toFixed(1) + " KB" : (bytes / 1048576).toFixed(1) + " MB";
  }

  function formatScore(value) {
    return typeof value === "number" ? value.toFixed(3) : "—";
  }

  function notify(text, isError) {
    const notice = $("#notice");
    notice.textContent = text;
    notice.className = "notice" + (isError ? " error" : "");
    notice.hidden = false;
    clearTimeout(notify.timer);
    notify.timer = setTimeout(() => { notice.hidden = true; }, isError ? 15000 : 6000);
  }

  // --- the API -----------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body, retryAfter) {
      const err = (body && body.error) || {};
      super(err.message_zh || err.message || (status ? "请求失败（HTTP " + status + "）" : "网络错误，请检查连接后重试"));
      this.status = status;
      this.code = err.code || "";
      this.retryAfter = retryAfter;
    }
  }

  function parseJson(text) {
    try { return text ? JSON.parse(text) : null; } catch (e) { return null; }
  }

  /** A same-origin JSON call; throws ApiError with the server's Chinese message. */
  async function api(method, path, body) {
    const options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(API + path, options);
    } catch (e) {
      throw new ApiError(0, null);
    }
    const data = parseJson(await response.text());
    if (!response.ok) {
      const error = new ApiError(response.status, data, response.headers.get("Retry-After"));
      if (response.status === 401 && state.user) showLogin("登录已过期，请重新登录");
      throw error;
    }
    return data;
  }

  /** Show a failed call's message (a 401 has already brought back the log-in form). */
  function report(error) {
    if (error.status !== 401) notify(error.message, true);
  }

  /** The call's result, or null once the failure has been shown. */
  async function attempt(method, path, body) {
    try {
      return await api(method, path, body);
    } catch (error) {
      report(error);
      return null;
    }
  }

  /** A multipart upload with real progress events: resolves {status, body}. */
  function sendWithProgress(method, path, form, item) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open(method, API + path);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) item.progress(e.loaded, e.total); };
      xhr.upload.onload = () => item.processing();
      xhr.onload = () => resolve({ status: xhr.status, body: parseJson(xhr.responseText) });
      xhr.onerror = () => reject(new ApiError(0, { error: { message_zh: "网络错误，上传未完成（文件可能过大）" } }));
      xhr.send(form);
    });
  }

  /** One encoded segment, so an id such as "a/../../users" cannot point at another route. */
  function segment(value) {
    return value === "." || value === ".." ? "%00" : encodeURIComponent(value);
  }

  function docPath(docId) {
    return "/documents/" + segment(docId);
  }

  // --- log-in ------------------------------------------------------------------------

  function showLogin(message) {
    state.user = null;
    $("#app").hidden = true;
    $("#who").hidden = true;
    $("#login").hidden = false;
    $("#login-error").textContent = message || "";
    $("#login-form").elements.password.value = "";
    $("#login-form").elements.username.focus();
  }

  function showApp(user) {
    state.user = user;
    $("#login").hidden = true;
    $("#login-error").textContent = "";
    $("#who-name").textContent = user.username;
    $("#who-role").textContent = ROLES[user.role] || user.role;
    $("#who").hidden = false;
    document.querySelectorAll("[data-role=admin]").forEach((node) => { node.hidden = user.role !== "admin"; });
    $("#app").hidden = false;
    showView(currentView());
  }

  async function onLogin(event) {
    event.preventDefault();
    const form = event.target;
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    $("#login-error").textContent = "";
    try {
      const user = await api("POST", "/login", {
        username: form.elements.username.value.trim(),
        password: form.elements.password.value,
      });
      form.elements.password.value = "";
      showApp({ username: user.username, role: user.role });
    } catch (error) {
      $("#login-error").textContent = error.status === 429
        ? "尝试次数过多，请稍后再试" + (error.retryAfter ? "（约 " + error.retryAfter + " 秒后）" : "")
        : error.message;
    } finally {
      submit.disabled = false;
    }
  }

  async function onLogout() {
    await api("POST", "/logout").catch(() => null); // the session ends here either way
    showLogin("已退出登录");
  }

  // --- views -------------------------------------------------------------------------

  const LOADERS = {
    documents: loadDocuments,
    faq: loadFaqs,
    insight: loadInsight,
    policies: loadPolicies,
    "hit-test": () => $("#hit-form").elements.question.focus(),
    safety: loadSafety,
    audit: loadAudit,
    settings: loadSettingsView,
  };

  function currentView() {
    const name = location.hash.slice(1);
    return LOADERS[name] ? name : "documents";
  }

  function allowed(name) {
    return ADMIN_VIEWS.indexOf(name) < 0 || (state.user && state.user.role === "admin");
  }

  function showView(name) {
    if (!state.user) return;
    if (!allowed(name)) name = "documents";
    document.querySelectorAll(".tabs [role=tab]").forEach((tab) => {
      tab.setAttribute("aria-selected", String(tab.dataset.view === name));
    });
    document.querySelectorAll(".view").forEach((view) => { view.hidden = view.id !== "view-" + name; });
    LOADERS[name]();
  }

  function go(name) {
    if (location.hash === "#" + name) showView(name);
    else location.hash = name; // the hashchange listener shows it
  }

  // --- documents ---------------------------------------------------------------------

  const DOC_PAGE = 50; // rows per page of the documents list

  /** The filter form as a query string: text, category, department, updated_since (YYYY-MM-DD). */
  function docFilters() {
    const params = new URLSearchParams();
    new FormData($("#doc-filters")).forEach((value, name) => {
      if (String(value).trim()) params.set(name, String(value).trim());
    });
    return params.toString() ? "?" + params : "";
  }

  /** The documents list (one page, FAQ tables as one row each) and the deleted uploads. */
  function loadDocuments(offset) {
    if (offset !== undefined) state.docOffset = Math.max(0, offset); // else: stay on this page
    loadDeleted();
    return loadDocumentList();
  }

  async function loadDocumentList() {
    const call = ++state.docsCall;
    const filters = docFilters();
    const page = (filters ? filters + "&" : "?") + "group=file&limit=" + DOC_PAGE + "&offset=" + state.docOffset;
    const data = await attempt("GET", "/documents" + page);
    if (!data || call !== state.docsCall) return; // failed, or a newer list is on its way
    if (!data.documents.length && data.total && state.docOffset) {
      loadDocuments(Math.max(0, Math.floor((data.total - 1) / DOC_PAGE) * DOC_PAGE)); // the last page shrank
      return;
    }
    state.docs = data.documents;
    state.docTotal = data.total;
    state.docFiltered = Boolean(filters);
    addOptions($("#doc-filters").elements.category, data.categories || []);
    addOptions($("#doc-filters").elements.department, data.departments || []);
    addOptions($("#known-categories"), data.categories || []);
    addOptions($("#known-departments"), data.departments || []);
    renderDocuments();
  }

  /** Filter (and suggestion) choices grow with every list seen (the first, unfiltered one has them all). */
  function addOptions(list, values) {
    const known = new Set(Array.from(list.querySelectorAll("option")).map((o) => o.value));
    values.filter((v) => v && !known.has(v)).sort().forEach((value) => {
      known.add(value);
      list.appendChild(el("option", { value: value, text: value }));
    });
  }

  function liveVersion(doc) {
    const live = (doc.versions || []).find((v) => v.status === "live");
    return live ? live.version : null;
  }

  function renderDocuments() {
    const rows = [];
    state.docs.forEach((doc) => {
      rows.push(docRow(doc));
      if (state.replacing === doc.doc_id) rows.push(replaceRow(doc));
      if (state.expanded.has(doc.doc_id)) rows.push(versionsRow(doc));
    });
    fillTable($("#doc-table"), rows, "没有符合条件的文档");
    const total = state.docTotal;
    $("#doc-count").textContent = (state.docFiltered ? "符合条件 " : "共 ") + total + " 项" +
      (total > state.docs.length ? "，本页 " + (state.docOffset + 1) + "–" + (state.docOffset + state.docs.length) : "") +
      (state.docs.some((d) => (d.rows || 1) > 1) ? "（问答表格每个文件算一项）" : "");
    renderPager();
  }

  /** 上一页 · 第 n / m 页 · 下一页, only when there is more than one page. */
  function renderPager() {
    const pager = $("#doc-pager");
    clear(pager);
    const pages = Math.ceil(state.docTotal / DOC_PAGE);
    if (pages < 2) return;
    const current = Math.floor(state.docOffset / DOC_PAGE) + 1;
    const prev = button("上一页", () => loadDocuments(state.docOffset - DOC_PAGE));
    const next = button("下一页", () => loadDocuments(state.docOffset + DOC_PAGE));
    prev.disabled = current === 1;
    next.disabled = current === pages;
    pager.append(prev, el("span", { class: "hint", text: "第 " + current + " / " + pages + " 页" }), next);
  }

  const ORIGINS = { upload: ["上传", "live"], faq: ["后台问答", "faq"], deployed: ["随系统部署", "deployed"] };

  function docRow(doc) {
    const live = liveVersion(doc);
    const origin = ORIGINS[doc.origin] || ORIGINS.deployed;
    let actions = el("span", { class: "hint", text: "只读" });
    if (doc.origin === "upload") actions = docActions(doc);
    else if (doc.origin === "faq") actions = button("在常见问答中编辑", () => go("faq"));
    const table = (doc.rows || 1) > 1 || (doc.kind === "faq" && doc.origin === "faq");
    const title = el("div", {}, [
      el("div", { text: doc.title }),
      table ? el("div", { class: "file", text: "问答表格 · " + doc.rows + " 条问答" })
        : doc.file ? el("div", { class: "file", title: "上传的文件", text: doc.file }) : null,
      officialLine(doc),
      doc.ocr ? ocrDetails(doc.ocr_pages || []) : null,
    ]);
    const id = table ? doc.doc_ids[0] + " 等 " + doc.rows + " 条" : doc.doc_id;
    return el("tr", { "data-doc-id": doc.doc_id, "data-file": doc.file || null, "data-rows": doc.rows || 1 }, [
      td(title),
      td(id, "mono"),
      td(doc.category),
      td(doc.department),
      td(doc.updated),
      td(badge(origin[0], origin[1])),
      td(live ? "v" + live : ""),
      td(actions, "actions"),
    ]);
  }

  /** A scan's pages read by OCR, each with the engine's confidence; doubtful pages stand out. */
  function ocrDetails(pages) {
    const percent = (c) => Math.round(c * 1000) / 10 + "%";
    const low = pages.filter((p) => p.confidence < OCR_DOUBTFUL);
    const lowest = pages.reduce((m, p) => Math.min(m, p.confidence), 1);
    const summary = el("summary", {}, [
      badge("文字识别 OCR", low.length ? "no" : "deployed"),
      " " + pages.length + " 页 · 最低可信度 " + percent(lowest) + (low.length ? " · " + low.length + " 页需核对" : ""),
    ]);
    const list = el("ol", { class: "ocr-pages" }, pages.map((p) => el("li", {
      class: p.confidence < OCR_DOUBTFUL ? "doubtful" : "",
      text: "第 " + p.page + " 页：" + percent(p.confidence),
    })));
    return el("details", { class: "ocr" }, [summary, list]);
  }
  const OCR_DOUBTFUL = 0.85; // below this a page's text is worth a look against the original

  /** 文号 · 发文机关 · 成文日期 of a government document, read off its text (or null). */
  function officialLine(doc) {
    const parts = [doc.doc_number ? "文号 " + doc.doc_number : "", doc.issuer || "",
      doc.issued ? "成文 " + doc.issued : ""].filter(Boolean);
    return parts.length ? el("div", { class: "file docno", text: parts.join(" · ") }) : null;
  }

  function docActions(doc) {
    const open = state.expanded.has(doc.doc_id);
    return el("span", {}, [
      button(open ? "收起版本" : "版本记录", () => toggleVersions(doc)),
      button("替换", (event) => openReplace(doc, event.currentTarget)),
      el("a", { class: "button secondary", href: API + docPath(doc.doc_id) + "/original", download: "", text: "下载原件" }),
      button("删除", () => deleteDocument(doc), "danger"),
    ]);
  }

  function toggleVersions(doc) {
    if (state.expanded.has(doc.doc_id)) state.expanded.delete(doc.doc_id);
    else state.expanded.add(doc.doc_id);
    renderDocuments();
  }

  /** Superseded versions can come back, unless they are byte for byte the live one. */
  function versionAction(doc, v, liveSha) {
    if (v.status !== "superseded") return "";
    if (v.sha256 === liveSha) return el("span", { class: "hint", text: "与当前版本相同" });
    return button("回滚到此版本", () => rollback(doc, v.version));
  }

  function versionsRow(doc) {
    const live = (doc.versions || []).find((v) => v.status === "live");
    const rows = (doc.versions || []).slice().reverse().map((v) => el("tr", { "data-version": v.version }, [
      td("v" + v.version),
      td(badge(STATUS[v.status] || v.status, v.status)),
      td(v.uploaded_by),
      td(formatTime(v.at)),
      td(formatSize(v.size)),
      td(el("span", { class: "mono", title: v.sha256, text: String(v.sha256 || "").slice(0, 12) })),
      td(v.reason),
      td(versionAction(doc, v, live && live.sha256), "actions"),
    ]));
    const table = el("table", { class: "grid" }, [
      el("thead", {}, [el("tr", {}, ["版本", "状态", "上传人", "时间", "大小", "SHA-256", "原因", "操作"].map((h) => el("th", { text: h })))]),
      el("tbody", {}, rows),
    ]);
    return el("tr", { class: "versions", "data-versions-of": doc.doc_id }, [el("td", { colspan: 8 }, [table])]);
  }

  /** The documents that come from the same uploaded file (an FAQ table holds many). */
  async function docsOfFile(doc) {
    if (!doc.file) return [doc];
    const docs = (await attempt("GET", "/documents")) || []; // all of them: the page shows only some
    return docs.filter((d) => d.origin === "upload" && d.file === doc.file);
  }

  /** The confirm() line for a file that holds several documents; "" for one. */
  function wholeFileWarning(doc, docs, verb) {
    if (!doc.file || docs.length < 2) return "";
    const titles = docs.slice(0, 5).map((d) => "“" + d.title + "”").join("、") + (docs.length > 5 ? " 等" : "");
    const what = doc.title === doc.file ? "注意：文件 " + doc.file : "注意：“" + doc.title + "”来自文件 " + doc.file + "，该文件";
    return what + "共含 " + docs.length + " 篇文档（" + titles + "），" + verb + "将作用于整个文件的全部 " +
      docs.length + " 篇。\n\n";
  }

  async function deleteDocument(doc) {
    const warning = wholeFileWarning(doc, await docsOfFile(doc), "删除");
    const what = warning ? "文件 " + doc.file : "“" + doc.title + "”";
    if (!confirm(warning + "确定删除" + what + "吗？删除后智能助手不再引用它（可在“已删除的文档”中恢复）。")) return;
    const result = await attempt("DELETE", docPath(doc.doc_id));
    if (result) notify("已删除：" + (result.deleted || doc.title));
    state.expanded.delete(doc.doc_id);
    loadDocuments();
  }

  async function rollback(doc, version) {
    if (!confirm("确定把“" + doc.title + "”恢复为版本 " + version + " 吗？")) return;
    const result = await attempt("POST", docPath(doc.doc_id) + "/rollback", { version: version });
    if (result) notify("已恢复版本 " + version + "，现为版本 " + result.version);
    loadDocuments();
  }

  // --- replace ---------------------------------------------------------------------

  /** Open the replace panel under the row and the file chooser at once (one click, as before). */
  function openReplace(doc, opener) {
    if (state.replacing === doc.doc_id) {
      closeReplace();
      return;
    }
    state.replacing = doc.doc_id;
    renderDocuments();
    const input = document.querySelector("tr[data-replace-of] input[type=file]");
    if (input && opener) input.click();
  }

  function closeReplace() {
    state.replacing = null;
    renderDocuments();
  }

  function replaceRow(doc) {
    const baseVersion = liveVersion(doc);
    const input = el("input", {
      type: "file", name: "file", class: "visually-hidden",
      accept: ".md,.markdown,.txt,.html,.htm,.docx,.doc,.wps,.pdf,.ofd,.png,.jpg,.jpeg,.pptx,.csv,.xlsx,.et",
    });
    const chosen = el("span", { class: "chosen", text: "未选择文件" });
    input.addEventListener("change", () => {
      chosen.textContent = input.files && input.files[0] ? input.files[0].name : "未选择文件";
    });
    const field = (name, label, value, max) => el("label", {}, [label + " ",
      el("input", { name: name, value: value || "", maxlength: max, placeholder: value ? null : "不变",
        list: name === "category" ? "known-categories" : name === "department" ? "known-departments" : null })]);
    const form = el("form", { class: "replace-form" }, [
      el("div", { class: "row" }, [
        el("strong", { text: "替换“" + doc.title + "”（当前版本 v" + baseVersion + "）" }),
      ]),
      el("div", { class: "row" }, [
        el("label", { class: "button secondary file-button" }, ["选择新文件…", input]),
        chosen,
      ]),
      el("div", { class: "row" }, [
        field("category", "分类", doc.category, 50),
        field("department", "部门", doc.department, 100),
        field("contact", "联系方式", "", 200),
        el("span", { class: "hint", text: "不修改的项保持原值；文件本身写明的以文件为准。" }),
      ]),
      el("div", { class: "row" }, [
        el("button", { type: "submit", text: "上传新版本" }),
        button("取消", closeReplace),
      ]),
    ]);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      submitReplace(doc, baseVersion, form, input.files && input.files[0]);
    });
    return el("tr", { class: "versions replace", "data-replace-of": doc.doc_id }, [el("td", { colspan: 8 }, [form])]);
  }

  async function submitReplace(doc, baseVersion, panel, file) {
    if (!file) {
      notify("请先选择用来替换的新文件", true);
      return;
    }
    const warning = wholeFileWarning(doc, await docsOfFile(doc), "替换");
    if (warning && !confirm(warning + "确定用 " + file.name + " 替换文件 " + doc.file + " 吗？")) return;
    const form = new FormData();
    form.append("file", file, file.name);
    form.append("base_version", String(baseVersion));
    // only what the editor changed: an omitted field keeps the value the file had
    const was = { category: doc.category || "", department: doc.department || "", contact: "" };
    META.forEach((name) => {
      const value = panel.elements[name].value.trim();
      if (value && value !== was[name]) form.append(name, value);
    });
    state.replacing = null;
    renderDocuments();
    await send("PUT", docPath(doc.doc_id), form, "替换“" + doc.title + "”：" + file.name, showReplaceResult);
  }

  // --- deleted uploads ---------------------------------------------------------------

  async function loadDeleted() {
    const deleted = await attempt("GET", "/documents/deleted");
    if (!deleted) return;
    $("#deleted-count").textContent = "（" + deleted.length + "）";
    fillTable($("#deleted-table"), deleted.map((d) => el("tr", { "data-deleted": d.name }, [
      td(d.name),
      td(d.version ? "v" + d.version : ""),
      td(d.deleted_by),
      td(formatTime(d.deleted_at)),
      td(button("恢复", () => restore(d)), "actions"),
    ])), "没有已删除的文档");
  }

  async function restore(deleted) {
    if (!confirm("确定恢复 " + deleted.name + " 吗？其最后一个版本（v" + deleted.version + "）将重新生效。")) return;
    const result = await attempt("POST", "/documents/deleted/" + segment(deleted.name) + "/restore");
    if (result) notify("已恢复：" + result.name + "，现为版本 " + result.version);
    loadDocuments();
  }

  // --- uploads -----------------------------------------------------------------------

  /** One line per upload: a real <progress>, then the server's result for each file. */
  function uploadItem(label) {
    const bar = el("progress", { max: 100, value: 0, "aria-label": "上传进度" });
    const status = el("span", { class: "state", text: "上传中 0%" });
    const results = el("ul", {});
    const li = el("li", { "data-state": "uploading" }, [el("strong", { text: label }), bar, status, results]);
    $("#uploads").prepend(li);
    let watch = 0; // the poll of the server's OCR progress while the upload is processed
    const finish = (kind, text) => {
      li.dataset.state = kind;
      status.className = "state " + kind;
      status.textContent = text;
      bar.value = 100;
    };
    return {
      progress(loaded, total) {
        bar.value = Math.floor((loaded / total) * 100);
        status.textContent = "上传中 " + bar.value + "%";
      },
      processing() {
        bar.value = 100;
        li.dataset.state = "processing";
        status.textContent = "已上传，正在解析并建立索引…";
        watch = setInterval(async () => {
          const now = await api("GET", "/documents/progress").catch(() => null); // quietly: a hint only
          if (!now || li.dataset.state !== "processing") return;
          if (now.ocr) {
            bar.value = Math.floor((now.ocr.done / now.ocr.total) * 100);
            status.textContent = "正在识别扫描件 " + now.ocr.file + "：第 " + now.ocr.done + " / " + now.ocr.total + " 页";
          } else {
            bar.value = 100;
            status.textContent = "已上传，正在解析并建立索引…";
          }
        }, 1500);
      },
      done: (text) => { clearInterval(watch); finish("done", text); },
      failed: (text) => { clearInterval(watch); finish("failed", text); },
      line: (text, cls) => results.appendChild(el("li", { class: cls, text: text })),
    };
  }

  async function onUpload(event) {
    event.preventDefault();
    const input = $("#upload-files");
    const files = Array.from(input.files || []);
    if (!files.length) {
      notify("请先选择要上传的文件", true);
      return;
    }
    const form = new FormData();
    files.forEach((file) => form.append("files", file, file.name));
    const fields = event.target.elements;
    META.forEach((name) => {
      const value = fields[name].value.trim();
      if (value) form.append(name, value);
      fields[name].value = ""; // they belong to this upload, not the next one
    });
    const label = files.map((f) => f.name).join("、");
    input.value = "";
    showChosen();
    await send("POST", "/documents", form, label, showUploadResult);
  }

  /** Send files with a progress line, let `onResult` show the answer, then reload the list. */
  async function send(method, path, form, label, onResult) {
    const item = uploadItem(label);
    try {
      const { status, body } = await sendWithProgress(method, path, form, item);
      onResult(item, status, body);
    } catch (error) {
      item.failed("失败：" + error.message);
    }
    loadDocuments();
  }

  function showUploadResult(item, status, body) {
    if (status === 401) showLogin("登录已过期，请重新登录");
    if (status !== 201) {
      item.failed("失败：" + new ApiError(status, body).message);
      return;
    }
    body.uploaded.forEach((u) => item.line("✓ " + u.name + "：已生效，版本 " + u.version + "（文档 " + u.doc_ids.join("、") + "）", "uploaded"));
    body.rejected.forEach((r) => {
      const reason = r.message_zh || r.message || "";
      item.line("✗ " + (reason.indexOf(r.name) === 0 ? reason : r.name + "：" + reason), "rejected");
    });
    item.done(body.rejected.length ? "完成（" + body.rejected.length + " 个文件被拒绝）" : "完成");
  }

  function showChosen() {
    const files = Array.from($("#upload-files").files || []);
    $("#upload-chosen").textContent = files.length ? files.map((f) => f.name).join("、") : "未选择文件";
  }

  function showReplaceResult(item, status, body) {
    if (status === 200) {
      item.done("完成：现为版本 " + body.version);
    } else if (status === 409) {
      const message = new ApiError(status, body).message;
      item.failed("失败：" + message);
      notify("该文档已被他人修改：" + message + "。列表已刷新，请确认后重新替换。", true);
    } else {
      showUploadResult(item, status, body);
    }
  }

  // --- FAQ ---------------------------------------------------------------------------

  async function loadFaqs() {
    const faqs = await attempt("GET", "/faq");
    if (!faqs) return;
    state.faqs = faqs;
    const rows = state.faqs.map((faq) => el("tr", { "data-faq-id": faq.id }, [
      td(faq.question),
      td((faq.alternatives || []).length ? plainList(faq.alternatives) : ""),
      td(truncatable(faq.answer, 60)),
      td(faq.category),
      td(faq.department),
      td("v" + faq.version),
      td(faq.updated_by),
      td(formatTime(faq.updated_at)),
      td(el("span", {}, [
        button("编辑", () => openFaqForm(faq, faq)),
        button("删除", () => deleteFaq(faq), "danger"),
      ]), "actions"),
    ]));
    fillTable($("#faq-table"), rows, "还没有问答，点击“新增问答”添加");
    $("#faq-count").textContent = "共 " + state.faqs.length + " 条";
  }

  /** Open the form: `entry` is the FAQ being edited (or null), `values` fill the fields. */
  function openFaqForm(entry, values) {
    const form = $("#faq-form");
    state.editingFaq = entry;
    form.reset();
    ["question", "answer", "category", "department", "contact", "url"].forEach((name) => {
      form.elements[name].value = (values && values[name]) || "";
    });
    form.elements.alternatives.value = ((values && values.alternatives) || []).join("\n");
    $("#faq-form-title").textContent = entry ? "编辑问答（当前版本 v" + entry.version + "）" : "新增问答";
    $("#faq-error").textContent = "";
    form.hidden = false;
    form.scrollIntoView({ block: "start" });
    form.elements[values && values.question ? "answer" : "question"].focus();
  }

  function closeFaqForm() {
    $("#faq-form").hidden = true;
    state.editingFaq = null;
  }

  function faqFields(form) {
    const question = form.elements.question.value.trim();
    const alternatives = [];
    form.elements.alternatives.value.split("\n").forEach((line) => {
      const phrasing = line.trim();
      if (phrasing && phrasing !== question && alternatives.indexOf(phrasing) < 0) alternatives.push(phrasing);
    });
    const fields = { question: question, alternatives: alternatives, answer: form.elements.answer.value.trim() };
    ["category", "department", "contact", "url"].forEach((name) => { fields[name] = form.elements[name].value.trim(); });
    return fields;
  }

  async function onFaqSubmit(event) {
    event.preventDefault();
    const form = event.target;
    const fields = faqFields(form);
    const entry = state.editingFaq;
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      if (entry) {
        fields.base_version = entry.version;
        await api("PUT", "/faq/" + entry.id, fields);
      } else {
        await api("POST", "/faq", fields);
      }
      closeFaqForm();
      notify("问答已保存：" + fields.question);
      loadFaqs();
    } catch (error) {
      if (error.code === "duplicate") {
        $("#faq-error").textContent = error.message; // the form stays open to change the question
      } else if (error.status === 409) {
        closeFaqForm();
        notify("该问答已被他人修改：" + error.message + "。列表已刷新，请重新编辑。", true);
        loadFaqs();
      } else if (error.status !== 401) {
        $("#faq-error").textContent = error.message;
      }
    } finally {
      submit.disabled = false;
    }
  }

  async function deleteFaq(faq) {
    if (!confirm("确定删除问答“" + faq.question + "”吗？")) return;
    if (await attempt("DELETE", "/faq/" + faq.id)) notify("已删除问答：" + faq.question);
    loadFaqs();
  }


  // --- service guides and policies -----------------------------------------------------

  const TERM_STATUS = { current: ["有效", "yes"], expired: ["已失效", "no"], pending: ["未生效", "deployed"] };
  const TERM_SOURCE = { front_matter: "文件头", text: "正文识别（待确认）", text_confirmed: "正文识别（已确认）", text_rejected: "已驳回" };

  function termText(from, until) {
    if (from && until) return from + " 至 " + until;
    if (until) return "至 " + until;
    if (from) return from + " 起";
    return "";
  }

  function statusBadge(status) {
    const s = TERM_STATUS[status];
    return s ? badge(s[0], s[1]) : badge("长期有效", "");
  }

  async function loadPolicies() {
    const [data, services] = await Promise.all([attempt("GET", "/policies"), attempt("GET", "/services")]);
    if (data) renderPolicies(data);
    if (services) renderServices(services);
  }

  function renderPolicies(data) {
    const expiring = data.expiring || [];
    $("#expiring-note").textContent = "（" + data.expiring_days + " 天内，" + expiring.length + " 项）";
    fillTable($("#expiring-table"), expiring.map((row) => el("tr", { "data-expiring": row.doc_id }, [
      td(el("span", {}, [el("strong", { text: row.title }), el("div", { class: "file", text: row.doc_id })])),
      td(row.valid_until),
      td(el("span", {}, [badge(row.days_left === 0 ? "今天到期" : row.days_left + " 天", row.days_left <= 7 ? "no" : "deployed")])),
      td(TERM_SOURCE[row.source] || row.source),
    ])), "30 天内没有到期的政策");

    fillTable($("#validity-table"), (data.to_confirm || []).map((row) => el("tr", { "data-validity": row.doc_id }, [
      td(el("span", {}, [el("strong", { text: row.title }), el("div", { class: "file", text: row.doc_id })])),
      td("「" + row.phrase + "」"),
      td(el("span", {}, [
        document.createTextNode(termText(row.valid_from, row.valid_until) || "—"), " ", statusBadge(row.status),
      ])),
      td(TERM_SOURCE[row.source] || row.source),
      td(el("span", {}, [
        row.source === "text_confirmed" ? null : button("确认", () => reviewValidity(row, "confirmed"), "primary"),
        row.source === "text_rejected" ? null : button("驳回", () => reviewValidity(row, "rejected"), "danger"),
      ]), "actions"),
    ])), "没有需要确认的有效期");

    const policies = data.policies || [];
    const without = data.without_conditions || [];
    $("#policies-note").textContent = "（共 " + policies.length + " 项" + (without.length ? "，" + without.length + " 项没有申请条件，不参与匹配" : "") + "）";
    const rows = [];
    policies.forEach((p) => {
      rows.push(el("tr", { "data-policy": p.doc_id }, [
        td(el("span", {}, [el("strong", { text: p.title }), el("div", { class: "file", text: p.doc_id + (p.department ? " · " + p.department : "") })])),
        td(p.benefit),
        td(el("span", {}, [
          document.createTextNode(termText(p.valid_from, p.valid_until) || "未写明"), " ", statusBadge(p.status),
        ])),
        td(p.conditions.length
          ? el("div", {}, [plainList(p.conditions), p.conditions_source === "staff" ? badge("已人工修改", "deployed") : null])
          : badge("没有申请条件", "no")),
        td(el("span", {}, [
          button("编辑条件", () => openConditions(p)),
          p.conditions_source === "staff" ? button("恢复文件中的条件", () => resetConditions(p)) : null,
        ]), "actions"),
      ]));
      if (state.editingPolicy === p.doc_id) rows.push(conditionsRow(p));
    });
    fillTable($("#policy-table"), rows, "还没有政策文件（kind: policy）");
  }

  function renderServices(data) {
    const labels = data.labels || {};
    const guides = data.services || [];
    const gaps = guides.filter((g) => Object.keys(g.fields || {}).length === 0).length;
    $("#services-note").textContent = "（共 " + guides.length + " 项" + (gaps ? "，" + gaps + " 项一个字段也没有识别出，请检查小标题" : "") + "）";
    fillTable($("#service-table"), guides.map((g) => el("tr", { "data-service": g.id }, [
      td(el("span", {}, [el("strong", { text: g.title }), el("div", { class: "file", text: g.id + (g.department ? " · " + g.department : "") })])),
      td(Object.keys(g.fields || {}).length
        ? el("dl", { class: "fields" }, [].concat(...Object.keys(g.fields).map((f) => [
          el("dt", { text: (labels[f] || f) + (g.headings && g.headings[f] && g.headings[f] !== labels[f] ? "（" + g.headings[f] + "）" : "") }),
          el("dd", {}, [truncatable(g.fields[f], 80)]),
        ])))
        : badge("未识别出字段", "no")),
      td(el("div", {}, [
        g.missing && g.missing.length ? el("span", { class: "missing" }, g.missing.map((f) => badge(labels[f] || f, "deployed"))) : badge("齐全", "yes"),
        g.other_headings && g.other_headings.length
          ? el("p", { class: "hint other-headings", text: "未识别的小标题：" + g.other_headings.join("、") + "（若是字段，请改用标准名称）" })
          : null,
      ])),
      td(g.online_url ? el("a", { href: /^https?:\/\//i.test(g.online_url) ? g.online_url : "#", target: "_blank", rel: "noopener noreferrer", text: "链接" }) : ""),
    ])), "还没有办事指南（kind: service）");
  }

  function openConditions(p) {
    state.editingPolicy = p.doc_id;
    state.policyDraft = { doc: p.doc_id, text: toYaml(p.eligibility) };
    loadPolicies();
  }

  /** Conditions as the YAML lines a document's front matter holds under `eligibility:`. */
  function toYaml(conditions) {
    return (conditions || []).map((c) => {
      const key = Object.keys(c)[0];
      const v = c[key];
      const flow = (x) => Array.isArray(x) ? "[" + x.join(", ") + "]"
        : (x && typeof x === "object") ? "{" + Object.keys(x).map((k) => k + ": " + flow(x[k])).join(", ") + "}"
          : String(x);
      return "- " + key + ": " + flow(v);
    }).join("\n");
  }

  function conditionsRow(p) {
    const area = el("textarea", {
      class: "mono", rows: 8, "aria-label": "申请条件（YAML）", spellcheck: "false",
      placeholder: "- registered_in: 江岸区\n- established_years: {max: 5}\n- qualifications: {any: [高新技术企业, 科技型中小企业]}",
    });
    area.value = state.policyDraft && state.policyDraft.doc === p.doc_id ? state.policyDraft.text : toYaml(p.eligibility);
    area.addEventListener("input", () => { state.policyDraft = { doc: p.doc_id, text: area.value }; });
    const error = el("p", { class: "error", role: "alert" });
    const save = button("保存条件", async () => {
      save.disabled = true;
      try {
        await api("PUT", "/policies/" + segment(p.doc_id) + "/eligibility", { eligibility: area.value });
        state.editingPolicy = null;
        state.policyDraft = null;
        notify("申请条件已保存：" + p.title);
        loadPolicies();
      } catch (e) {
        if (e.status !== 401) error.textContent = e.message;
      } finally {
        save.disabled = false;
      }
    }, "primary");
    const cancel = button("取消", () => { state.editingPolicy = null; state.policyDraft = null; loadPolicies(); });
    return el("tr", { class: "versions", "data-conditions-of": p.doc_id }, [el("td", { colspan: 5 }, [
      el("label", { class: "block" }, ["申请条件（每行一条，各条须同时满足；语法见 DESIGN.md「Policies」：registered_in、established_years、industry、qualifications、employees、revenue_wan、rd_ratio）", area]),
      error,
      el("div", { class: "row" }, [save, cancel]),
    ])]);
  }

  async function resetConditions(p) {
    if (!confirm("恢复《" + p.title + "》文件中写明的申请条件？人工修改将被丢弃。")) return;
    if (await attempt("DELETE", "/policies/" + segment(p.doc_id) + "/eligibility")) notify("已恢复文件中的条件：" + p.title);
    loadPolicies();
  }

  async function reviewValidity(row, verdict) {
    const done = await attempt("POST", "/validity/" + segment(row.doc_id), { verdict: verdict, phrase: row.phrase });
    if (done) notify((verdict === "confirmed" ? "已确认有效期：" : "已驳回识别的有效期：") + row.title);
    loadPolicies();
  }

  // --- unanswered questions and feedback ---------------------------------------------

  async function loadInsight() {
    const days = $("#insight-form").elements.days.value;
    const data = await attempt("GET", "/insight?days=" + encodeURIComponent(days));
    if (!data) return;
    drawDaily($("#daily-chart"), data.daily || []);
    fillTable($("#unanswered-table"), (data.unanswered || []).map((g) => insightRow(g, false)), "这段时间没有未能回答的问题");
    fillTable($("#disliked-table"), (data.disliked || []).map((g) => insightRow(g, true)), "这段时间没有“没用”的反馈");
    $("#low-confidence-note").textContent = "（把握度低于 " + Math.round((data.low_confidence_threshold || 0) * 100) + "%：引用的段落没有完全覆盖所问的内容，请核对）";
    const blocked = data.blocked || [];
    $("#blocked-note").textContent = data.blocked_total ? "（共 " + data.blocked_total + " 次；这些问题未检索知识库、未发给大模型）" : "";
    fillTable($("#blocked-table"), blocked.map((g) => {
      const others = otherPhrasings(g);
      return el("tr", {}, [
        td(g.question),
        td(String(g.count)),
        td(formatTime(g.last_at)),
        td(el("span", { title: g.reason, text: g.reason_zh || g.reason })),
        td(others.length ? plainList(others) : ""),
      ]);
    }), "这段时间没有因内容安全拒答的问题");
    fillTable($("#low-confidence-table"), (data.low_confidence || []).map(lowConfidenceRow), "这段时间没有把握不大的回答");
    fillTable($("#top-table"), (data.top || []).map((t) => el("tr", {}, [
      td(t.question),
      td(String(t.count)),
      td(answeredBadge(t.answered)),
    ])), "这段时间还没有提问");
  }

  function lowConfidenceRow(group) {
    const others = otherPhrasings(group);
    return el("tr", {}, [
      td(group.question),
      td(String(group.count)),
      td(formatTime(group.last_at)),
      td(meter(group.confidence)),
      td(group.doc_id || "", "mono"),
      td(others.length ? plainList(others) : ""),
      td(el("span", {}, [
        group.faq ? badge("已有问答 " + group.faq, "yes") : null,
        button("添加为问答", () => addAsFaq(group), ""),
      ]), "actions"),
    ]);
  }

  /** A 0–1 share as a small bar and a percentage. */
  function meter(share) {
    const value = typeof share === "number" ? Math.max(0, Math.min(1, share)) : 0;
    const bar = el("span", { class: "meter" }, [el("i")]);
    bar.firstChild.style.width = Math.round(value * 100) + "%";
    return el("span", {}, [bar, Math.round(value * 100) + "%"]);
  }

  /** Questions per day as bars, the answered share as a line (plain SVG, built as elements). */
  function drawDaily(figure, days) {
    clear(figure);
    const NS = "http://www.w3.org/2000/svg";
    const svgEl = (tag, attrs, text) => {
      const node = document.createElementNS(NS, tag);
      Object.keys(attrs).forEach((k) => node.setAttribute(k, String(attrs[k])));
      if (text) node.textContent = text;
      return node;
    };
    const W = 900, H = 200, left = 40, right = 40, top = 12, bottom = 28;
    const plotW = W - left - right, plotH = H - top - bottom;
    const most = Math.max(1, ...days.map((d) => d.asked));
    const svg = svgEl("svg", { viewBox: "0 0 " + W + " " + H, role: "img", "aria-label": "每天的提问数与回答率" });
    svg.appendChild(svgEl("line", { x1: left, y1: top + plotH, x2: left + plotW, y2: top + plotH, stroke: "#bbb" }));
    svg.appendChild(svgEl("text", { x: left - 6, y: top + 8, "text-anchor": "end", "font-size": 11, fill: "#777" }, String(most)));
    svg.appendChild(svgEl("text", { x: left - 6, y: top + plotH, "text-anchor": "end", "font-size": 11, fill: "#777" }, "0"));
    // the answered share has its own scale on the right: 0% at the bottom, 100% at the top
    svg.appendChild(svgEl("line", { x1: left, y1: top, x2: left + plotW, y2: top, stroke: "#e3efe4", "stroke-dasharray": "4 3" }));
    svg.appendChild(svgEl("text", { x: left + plotW + 6, y: top + 8, "font-size": 11, fill: "#2e7d32" }, "100%"));
    svg.appendChild(svgEl("text", { x: left + plotW + 6, y: top + plotH, "font-size": 11, fill: "#2e7d32" }, "0%"));
    const step = plotW / Math.max(1, days.length);
    const points = [];
    days.forEach((d, i) => {
      const h = (d.asked / most) * plotH;
      const x = left + i * step;
      const bar = svgEl("rect", { x: x + step * 0.15, y: top + plotH - h, width: Math.max(1, step * 0.7), height: h, fill: "#9db7e0" });
      bar.appendChild(svgEl("title", {}, d.date + "：提问 " + d.asked + "，已回答 " + d.answered));
      svg.appendChild(bar);
      if (d.asked) points.push([(x + step / 2).toFixed(1), (top + plotH - (d.answered / d.asked) * plotH).toFixed(1), d]);
      const every = Math.ceil(days.length / 10);
      if (i % every === 0) svg.appendChild(svgEl("text", { x: x + step / 2, y: H - 8, "text-anchor": "middle", "font-size": 11, fill: "#777" }, d.date.slice(5)));
    });
    if (points.length > 1) svg.appendChild(svgEl("polyline", { points: points.map((p) => p[0] + "," + p[1]).join(" "), fill: "none", stroke: "#2e7d32", "stroke-width": 2 }));
    points.forEach(([cx, cy, d]) => {
      const dot = svgEl("circle", { cx: cx, cy: cy, r: 3.5, fill: "#2e7d32" });
      dot.appendChild(svgEl("title", {}, d.date + "：回答率 " + Math.round((d.answered / d.asked) * 100) + "%"));
      svg.appendChild(dot);
    });
    figure.appendChild(svg);
    const asked = days.reduce((n, d) => n + d.asked, 0), answered = days.reduce((n, d) => n + d.answered, 0);
    const swatch = (color) => {  // CSSOM, not a style attribute: the page's CSP allows no inline style
      const node = el("i");
      node.style.background = color;
      return node;
    };
    figure.appendChild(el("figcaption", { class: "legend" }, [
      el("span", {}, [swatch("#9db7e0"), "每天提问数"]),
      el("span", {}, [swatch("#2e7d32"), "回答率"]),
      el("span", { text: "合计 " + asked + " 个问题，回答 " + answered + " 个" + (asked ? "（" + Math.round(answered / asked * 100) + "%）" : "") }),
    ]));
  }

  /** `answered` is a share of the group's questions (0–1), or true/false. */
  function answeredBadge(answered) {
    if (typeof answered !== "number") return answered ? badge("是", "yes") : badge("否", "no");
    const percent = Math.round(answered * 100);
    return badge(percent + "%", percent >= 50 ? "yes" : "no");
  }

  function otherPhrasings(group) {
    return (group.examples || []).filter((q) => q && q !== group.question);
  }

  function insightRow(group, withAnswer) {
    const others = otherPhrasings(group);
    return el("tr", {}, [
      td(group.question),
      td(String(group.count)),
      td(formatTime(group.last_at)),
      withAnswer ? td(truncatable(group.answer, 60)) : null,
      td(others.length ? plainList(others) : ""),
      td(el("span", {}, [
        group.faq ? badge("已有问答 " + group.faq, "yes") : null,
        button("添加为问答", () => addAsFaq(group), ""),
      ]), "actions"),
    ]);
  }

  /** One click: the FAQ form, with the group's question and its other phrasings filled in. */
  function addAsFaq(group) {
    go("faq");
    openFaqForm(null, { question: group.question, alternatives: otherPhrasings(group) });
  }

  // --- hit test ----------------------------------------------------------------------

  async function onHitTest(event) {
    event.preventDefault();
    const question = event.target.elements.question.value.trim();
    if (!question) return;
    const summary = $("#hit-summary");
    summary.textContent = "正在检索…";
    const result = await attempt("POST", "/hit-test", { question: question });
    if (!result) {
      summary.textContent = "";
      return;
    }
    renderHitSummary(result);
    fillTable($("#hit-table"), (result.hits || []).map(hitRow), "没有检索到任何文档");
    $("#hit-table").hidden = false;
  }

  const ASPECT_MATCH = { section: "章节标题写明了所问的方面", sentence: "句子中写明了所问的方面", faq: "问答条目" };

  function renderHitSummary(result) {
    const summary = clear($("#hit-summary"));
    const faq = result.faq;
    const ev = result.evidence || {};
    const rows = [];
    if (result.sensitive_word) {
      summary.appendChild(badge("会婉拒（问题含敏感词）", "no"));
      rows.push(["内容安全", "问题含敏感词“" + result.sensitive_word + "”：用户只会收到婉拒，不检索、不调用大模型。以下仅供参考"]);
    } else {
      summary.appendChild(result.answered ? badge("会回答", "yes") : badge("不会回答（将给出部门联系方式）", "no"));
    }
    if (!result.answered && result.refusal_reason) rows.push(["不回答的原因", result.refusal_reason_zh || result.refusal_reason]);
    if (result.answered) rows.push(["把握度", meter(result.confidence)]);
    const missing = new Set(ev.missing || []);
    const terms = (result.focus_terms || []).map((t) => el("span", {
      class: "term" + (missing.has(t.word) ? " missing" : "") + (t.generic ? " generic" : ""),
      title: missing.has(t.word) ? "引用的段落中没有这个词" : t.generic ? "多数文档都有的词，不作判断" : t.subject ? "问题的主体" : "",
      text: t.word + (t.subject ? "（主体）" : ""),
    }));
    rows.push(["问题焦点", terms.length ? el("span", {}, terms) : "（无）"]);
    if (typeof ev.focus_coverage === "number") rows.push(["焦点覆盖", meter(ev.focus_coverage)]);
    rows.push(["所问方面", (ev.aspects || []).length ? ev.aspects.join("、") + (ev.aspect_matched ? "（" + (ASPECT_MATCH[ev.aspect_matched] || ev.aspect_matched) + "）" : "（引用处未写明）") : "（未识别出特定方面）"]);
    if (ev.doc_id) rows.push(["引用位置", ev.doc_id + (ev.section ? " › " + ev.section : "")]);
    rows.push(["最高语义相似度", formatScore(result.top_similarity)]);
    if (faq) {
      // `matched` false: only the nearest entry, below the matching threshold
      const label = faq.matched === false ? "最接近的问答（未达到匹配标准）" : "命中问答";
      rows.push([label, faq.question + "（" + faq.doc_id + "，得分 " + formatScore(faq.score) + "）"]);
    }
    const list = el("dl", { class: "evidence" });
    rows.forEach(([k, v]) => { list.appendChild(el("dt", { text: k })); list.appendChild(el("dd", {}, [v])); });
    summary.appendChild(list);
    if (result.answer) summary.appendChild(el("div", { class: "answer" }, [truncatable("回答预览：" + result.answer, 300)]));
  }

  function chunkScores(chunk) {
    const parts = [];
    if (typeof chunk.bm25 === "number") parts.push("BM25 " + chunk.bm25.toFixed(2));
    if (typeof chunk.similarity === "number") parts.push("相似度 " + chunk.similarity.toFixed(3));
    return parts.length ? " · " + parts.join(" · ") : "";
  }

  function hitRow(hit) {
    const chunks = (hit.chunks || []).map((chunk) => el("div", { class: "chunk" }, [
      el("div", { class: "section", text: (chunk.section || "（正文）") + chunkScores(chunk) }),
      truncatable(chunk.text, 120),
    ]));
    return el("tr", { "data-rank": hit.rank, class: hit.cited ? "cited" : "" }, [
      td(String(hit.rank) + (hit.cited ? " 引用" : "")),
      td(hit.title),
      td(hit.doc_id, "mono"),
      td(hit.kind === "faq" ? "问答" : "文档"),
      td(typeof hit.relevance === "number" ? String(hit.relevance) : formatScore(hit.score)),
      td(typeof hit.coverage === "number" ? meter(hit.coverage) : "—"),
      td(el("div", {}, chunks)),
    ]);
  }

  // --- audit log ---------------------------------------------------------------------

  const DETAILS = [
    [/^to version (\d+)$/, "恢复自版本 $1"],
    [/^from version (\d+)$/, "恢复删除前的版本 $1"],
    [/^indexed$/, "已完成索引"],
    [/^previous kept$/, "保留原版本"],
  ];

  function auditDetail(detail) {
    let text = String(detail || "");
    DETAILS.forEach(([pattern, zh]) => { text = text.replace(pattern, zh); });
    return text;
  }

  async function loadAudit() {
    const entries = await attempt("GET", "/audit");
    if (!entries) return;
    const version = (v) => (v === null || v === undefined ? "—" : "v" + v);
    const rows = entries.map((e) => el("tr", {}, [
      td(formatTime(e.at)),
      td(e.user),
      td(el("span", { title: e.action, text: ACTIONS[e.action] || e.action })),
      td(e.target),
      td(e.old_version === null && e.new_version === null ? "" : version(e.old_version) + " → " + version(e.new_version)),
      td(auditDetail(e.detail)),
    ]));
    fillTable($("#audit-table"), rows, "还没有操作记录");
  }

  // --- sensitive words (admins) ------------------------------------------------------

  /** The textarea's entries: trimmed, without blank lines and # comments. */
  function safetyWords() {
    return $("#safety-form").elements.words.value.split("\n")
      .map((line) => line.trim())
      .filter((line) => line && line.charAt(0) !== "#");
  }

  function countSafety() {
    const words = safetyWords();
    const allowed = words.filter((w) => w.charAt(0) === "!").length;
    $("#safety-count").textContent = "共 " + (words.length - allowed) + " 个敏感词" +
      (allowed ? "，" + allowed + " 个放行短语" : "") + (words.length > 10000 ? "（超过 10000 个，无法保存）" : "");
  }

  function showSafety(list) {
    state.safetyVersion = list.version;
    $("#safety-form").elements.words.value = list.words.join("\n");
    $("#safety-meta").textContent = list.default
      ? "当前使用：默认清单（随系统版本发布，共 " + list.count + " 条）"
      : "当前使用：管理员保存的清单（第 " + list.version + " 版，共 " + list.count + " 条），由 " +
        list.updated_by + " 于 " + formatTime(list.updated_at) + " 保存";
    $("#safety-defaults").disabled = list.default;
    $("#safety-error").textContent = "";
    countSafety();
  }

  async function loadSafety() {
    const list = await attempt("GET", "/sensitive-words");
    if (list) showSafety(list);
  }

  async function onSafetySubmit(event) {
    event.preventDefault();
    const submit = event.target.querySelector("button[type=submit]");
    submit.disabled = true;
    $("#safety-error").textContent = "";
    try {
      const list = await api("PUT", "/sensitive-words", { words: safetyWords(), base_version: state.safetyVersion });
      showSafety(list);
      notify("敏感词清单已保存（共 " + list.count + " 条），立即生效");
    } catch (error) {
      if (error.status !== 401) $("#safety-error").textContent = error.message;
    } finally {
      submit.disabled = false;
    }
  }

  async function restoreSafetyDefaults() {
    if (!confirm("确定恢复默认敏感词清单吗？管理员保存的清单将被替换（操作会记入操作日志）。")) return;
    const list = await attempt("DELETE", "/sensitive-words");
    if (!list) return;
    showSafety(list);
    notify("已恢复默认敏感词清单");
  }

  // --- accounts and settings (admins) -----------------------------------------------

  function loadSettingsView() {
    loadUsers();
    loadSettings();
  }

  async function loadUsers() {
    const users = await attempt("GET", "/users");
    if (!users) return;
    const me = state.user && state.user.username;
    fillTable($("#user-table"), users.map((u) => el("tr", { "data-user": u.username }, [
      td(el("span", {}, [u.username, u.username === me ? el("span", { class: "hint", text: "（当前登录）" }) : null])),
      td(badge(ROLES[u.role] || u.role, u.role === "admin" ? "faq" : "")),
      td(button("删除", () => deleteUser(u), "danger"), "actions"),
    ])), "还没有账号");
  }

  async function onCreateUser(event) {
    event.preventDefault();
    const form = event.target;
    const error = $("#user-error");
    const fields = {
      username: form.elements.username.value.trim(),
      password: form.elements.password.value,
      role: form.elements.role.value,
    };
    error.textContent = "";
    if (fields.password !== form.elements.password2.value) {
      error.textContent = "两次输入的密码不一致";
      form.elements.password2.focus();
      return;
    }
    const submit = form.querySelector("button[type=submit]");
    submit.disabled = true;
    try {
      const created = await api("POST", "/users", fields);
      form.reset();
      notify("已创建账号：" + created.username + "（" + (ROLES[created.role] || created.role) + "）");
      loadUsers();
    } catch (failure) {
      if (failure.status !== 401) error.textContent = failure.message;
    } finally {
      submit.disabled = false;
    }
  }

  async function deleteUser(user) {
    if (!confirm("确定删除账号 " + user.username + "（" + (ROLES[user.role] || user.role) + "）吗？其登录会立即失效。")) return;
    const result = await attempt("DELETE", "/users/" + segment(user.username));
    if (result) notify("已删除账号：" + (result.deleted || user.username));
    loadUsers();
  }

  /** A description's `code` spans as <code>, the rest as text. */
  function withCode(text) {
    return String(text || "").split("`").map((part, i) => (i % 2 ? el("code", { text: part }) : document.createTextNode(part)));
  }

  /** The Chinese description, the English one under it in grey (for the README and vendors). */
  function settingDescription(s) {
    return el("div", {}, [
      el("div", {}, withCode(s.description_zh || s.description)),
      s.description_zh && s.description ? el("div", { class: "hint en", lang: "en" }, withCode(s.description)) : null,
    ]);
  }

  async function loadSettings() {
    const data = await attempt("GET", "/settings");
    if (!data) return;
    const stats = data.stats || {};
    clear($("#stats"));
    STATS.forEach(([key, label]) => {
      if (stats[key] === undefined) return;
      $("#stats").appendChild(el("div", { class: "stat", "data-stat": key }, [
        el("strong", { text: String(stats[key]) }),
        el("span", { text: label }),
      ]));
    });
    fillTable($("#settings-table"), (data.settings || []).map((s) => el("tr", { "data-setting": s.name }, [
      td(s.name, "mono"),
      td(s.value === "None" ? "（未设置，使用默认值）" : s.value, "mono"),
      td(settingDescription(s)),
    ])), "没有可显示的设置");
  }

  // --- start -------------------------------------------------------------------------

  async function start() {
    $("#login-form").addEventListener("submit", onLogin);
    $("#logout").addEventListener("click", onLogout);
    document.querySelectorAll(".tabs [role=tab]").forEach((tab) => {
      tab.addEventListener("click", () => go(tab.dataset.view));
    });
    window.addEventListener("hashchange", () => showView(currentView()));
    $("#upload-form").addEventListener("submit", onUpload);
    $("#upload-files").addEventListener("change", showChosen);
    $("#doc-filters").addEventListener("submit", (e) => { e.preventDefault(); loadDocuments(0); });
    $("#doc-filters").addEventListener("reset", () => setTimeout(() => loadDocuments(0), 0));
    $("#faq-new").addEventListener("click", () => openFaqForm(null, null));
    $("#faq-cancel").addEventListener("click", closeFaqForm);
    $("#faq-form").addEventListener("submit", onFaqSubmit);
    $("#insight-form").addEventListener("submit", (e) => { e.preventDefault(); loadInsight(); });
    $("#hit-form").addEventListener("submit", onHitTest);
    $("#audit-reload").addEventListener("click", loadAudit);
    $("#policies-reload").addEventListener("click", loadPolicies);
    $("#user-form").addEventListener("submit", onCreateUser);
    $("#safety-form").addEventListener("submit", onSafetySubmit);
    $("#safety-form").elements.words.addEventListener("input", countSafety);
    $("#safety-reload").addEventListener("click", loadSafety);
    $("#safety-defaults").addEventListener("click", restoreSafetyDefaults);
    try {
      showApp(await api("GET", "/me"));
    } catch (error) {
      showLogin(error.status === 401 ? "" : error.message);
    }
  }

  document.addEventListener("DOMContentLoaded", start);
})();
