/* 江岸企服助手 — embeddable chat widget. One tag, no build step, no external resources:
 *   <script src="https://HOST/widget.js" data-title="江岸企服助手" data-welcome="…"
 *     data-position="right" data-color="#c8102e" data-questions="问题一|问题二" defer></script>
 * Everything the server or the user sends is rendered as text (textContent); links are
 * only ever http(s). The UI lives in a Shadow DOM so the host page's CSS cannot reach it.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__jianganAssistant) return;
  window.__jianganAssistant = true;

  function attr(name, fallback) {
    var v = script.getAttribute(name);
    return v === null || v === "" ? fallback : v;
  }
  var color = attr("data-color", "#c8102e");
  if (!/^#[0-9a-fA-F]{3,8}$|^[a-zA-Z]{3,20}$/.test(color)) color = "#c8102e";
  var cfg = {
    title: attr("data-title", "江岸企服助手"),
    welcome: attr(
      "data-welcome",
      "您好！我是江岸企服助手，可以解答企业开办、人才政策、孵化载体、金融支持等问题。回答均注明出处。"
    ),
    left: attr("data-position", "right") === "left",
    color: color,
    questions: attr("data-questions", "").split("|").map(function (q) { return q.trim(); }).filter(Boolean).slice(0, 6),
    page: attr("data-mode", "bubble") === "page",
    api: new URL(script.src, location.href).origin
  };
  var STORE = "jiangan-assistant:" + cfg.api;
  var MAX_KEPT = 40;

  var CSS =
    ":host{all:initial}" +
    "*{box-sizing:border-box;font-family:'PingFang SC','Microsoft YaHei','WenQuanYi Zen Hei','Noto Sans CJK SC',sans-serif}" +
    ".launcher{position:fixed;bottom:24px;" + (cfg.left ? "left" : "right") + ":24px;width:60px;height:60px;border-radius:50%;border:none;" +
    "background:var(--c);color:#fff;display:flex;align-items:center;justify-content:center;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483000}" +
    ".launcher:focus-visible,button:focus-visible,textarea:focus-visible,a:focus-visible{outline:3px solid #1a73e8;outline-offset:2px}" +
    ".panel{position:fixed;bottom:96px;" + (cfg.left ? "left" : "right") + ":24px;width:380px;height:600px;max-height:calc(100vh - 120px);" +
    "background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.25);display:flex;flex-direction:column;overflow:hidden;z-index:2147483001;color:#222;font-size:15px;line-height:1.6}" +
    ".panel[hidden]{display:none}" +
    ".page .panel{position:static;width:100%;max-width:860px;height:100vh;max-height:none;margin:0 auto;border-radius:0;box-shadow:none}" +
    "header{background:var(--c);color:#fff;padding:12px 16px;display:flex;align-items:center;justify-content:space-between}" +
    "h2{margin:0;font-size:17px;font-weight:600}" +
    ".close{background:none;border:none;color:#fff;font-size:22px;cursor:pointer;line-height:1}" +
    ".log{flex:1;overflow-y:auto;padding:12px 14px;background:#f6f7f9}" +
    ".msg{margin:8px 0;max-width:88%;padding:9px 12px;border-radius:10px;white-space:pre-wrap;word-break:break-word}" +
    ".bot{white-space:normal}.text p{margin:0 0 4px}.text .list{margin:2px 0 6px;padding-left:22px}.text li{margin:1px 0}" +
    ".tel{color:#1a4fb5;text-decoration:underline;white-space:nowrap}" +
    ".badge{display:inline-block;margin-left:6px;padding:0 5px;border-radius:3px;background:#fff3cd;color:#8a5a00;font-size:11px;font-weight:400;vertical-align:middle}" +
    ".user{margin-left:auto;background:var(--c);color:#fff}" +
    ".bot{background:#fff;border:1px solid #e3e5e8}" +
    ".bot.refused{border-color:#f0c36d;background:#fffaf0}" +
    ".cite{border:none;background:#e8eefc;color:#1a4fb5;border-radius:4px;padding:0 4px;margin:0 1px;font-size:12px;cursor:pointer;vertical-align:super}" +
    ".contact{margin-top:6px;font-size:13px;color:#8a5a00}" +
    ".meta{display:flex;gap:6px;align-items:center;margin-top:6px;font-size:12px;color:#777}" +
    ".rate{border:1px solid #ddd;background:#fff;border-radius:14px;padding:1px 8px;cursor:pointer;font-size:13px}" +
    ".rate[aria-pressed=true]{background:var(--c);color:#fff;border-color:var(--c)}" +
    ".error{color:#b00020}" +
    ".retry{margin-left:6px;border:1px solid #b00020;background:#fff;color:#b00020;border-radius:4px;cursor:pointer}" +
    ".suggestions{display:flex;flex-wrap:wrap;gap:6px;padding:0 14px 8px;background:#f6f7f9}" +
    ".suggestion{border:1px solid var(--c);color:var(--c);background:#fff;border-radius:16px;padding:4px 10px;cursor:pointer;font-size:13px}" +
    ".source{margin:0 14px 8px;padding:10px 12px;border:1px solid #cdd7f0;border-radius:8px;background:#fff;font-size:13px}" +
    ".source[hidden],.suggestions[hidden]{display:none}" +
    ".source h3{margin:0 0 4px;font-size:14px}" +
    ".source p{margin:4px 0}" +
    ".source .dept{color:#555}" +
    ".card{border:1px solid #cdd7f0;border-radius:8px;overflow:hidden;margin:2px 0}" +
    ".card-head{background:#eef3fd;padding:7px 10px}" +
    ".card-title{border:none;background:none;padding:0;font-size:14px;font-weight:600;color:#1a4fb5;text-align:left;cursor:pointer;text-decoration:underline}" +
    ".card-dept{display:block;font-size:12px;color:#555}" +
    ".row{display:grid;grid-template-columns:72px 1fr;gap:8px;padding:6px 10px;border-top:1px solid #eef0f3}" +
    ".row .label{color:#555;font-size:13px;font-weight:600}" +
    ".row .value p{margin:0 0 2px}.row .list{margin:0;padding-left:20px}" +
    ".row.asked{background:#fffdf3}" +
    ".card details{border-top:1px solid #eef0f3}.card summary{padding:6px 10px;cursor:pointer;color:#1a4fb5;font-size:13px}" +
    ".card-foot{display:flex;flex-wrap:wrap;gap:8px;align-items:center;padding:7px 10px;border-top:1px solid #eef0f3;font-size:13px}" +
    ".online{background:var(--c);color:#fff;border-radius:14px;padding:2px 12px;text-decoration:none}" +
    ".expired{background:#fde7e9;color:#b00020}" +
    ".tool{background:rgba(255,255,255,.18);border:1px solid rgba(255,255,255,.7);color:#fff;border-radius:14px;padding:2px 10px;font-size:13px;cursor:pointer;margin-left:auto;margin-right:8px}" +
    ".mform{padding:0;border:none;background:none;display:grid;grid-template-columns:92px 1fr;gap:6px 8px;align-items:center;font-size:13px}" +
    ".mform input[type=text],.mform input[type=number],.mform input[type=date]{width:100%;border:1px solid #ccc;border-radius:6px;padding:4px 6px;font-size:13px}" +
    ".mform .quals{display:flex;flex-wrap:wrap;gap:2px 10px}.mform .quals label{white-space:nowrap}" +
    ".mform .actions{grid-column:1/3;display:flex;gap:8px;margin-top:4px}" +
    ".mform .hint{grid-column:1/3;color:#777;font-size:12px}" +
    ".mform .error{grid-column:1/3}" +
    ".go{background:var(--c);color:#fff;border:none;border-radius:6px;padding:5px 14px;cursor:pointer;font-size:13px}" +
    ".policy{border:1px solid #e3e5e8;border-radius:8px;padding:6px 9px;margin:6px 0;background:#fff}" +
    ".policy h4{margin:0;font-size:14px;font-weight:600}.policy p{margin:2px 0;font-size:13px}.policy .benefit{color:#8a5a00}.policy .valid{color:#777;font-size:12px}" +
    ".policy ul{margin:2px 0;padding-left:18px;font-size:13px}" +
    ".policy .met li::marker{content:'✓ ';color:#1e7b34}.policy .unknown li::marker{content:'? ';color:#8a5a00}.policy .unmet li::marker{content:'✗ ';color:#b00020}" +
    ".group{margin:8px 0 2px;font-weight:600;font-size:13px}" +
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e3e5e8;background:#fff}" +
    "textarea{flex:1;resize:none;height:44px;border:1px solid #ccc;border-radius:8px;padding:10px;font-size:15px}" +
    ".send{background:var(--c);color:#fff;border:none;border-radius:8px;padding:0 16px;font-size:15px;cursor:pointer}" +
    ".send:disabled{opacity:.5;cursor:default}" +
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}" +
    "@media (max-width:480px){.panel{left:0;right:0;bottom:0;top:0;width:100vw;height:100vh;height:100dvh;max-height:none;border-radius:0}}";

  function el(tag, props, children) {
    var node = document.createElement(tag);
    if (props) {
      Object.keys(props).forEach(function (k) {
        if (k === "text") node.textContent = props[k];
        else if (k === "class") node.className = props[k];
        else if (k.indexOf("on") === 0) node.addEventListener(k.slice(2), props[k]);
        else node.setAttribute(k, props[k]);
      });
    }
    (children || []).forEach(function (c) { if (c) node.appendChild(c); });
    return node;
  }

  function icon(path) {  // no emoji: kiosk browsers often lack an emoji font
    var NS = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("width", "28");
    svg.setAttribute("height", "28");
    svg.setAttribute("aria-hidden", "true");
    var p = document.createElementNS(NS, "path");
    p.setAttribute("d", path);
    p.setAttribute("fill", "currentColor");
    svg.appendChild(p);
    return svg;
  }

  function load() {
    try {
      var v = JSON.parse(localStorage.getItem(STORE) || "{}");
      return v && typeof v === "object" && !Array.isArray(v) ? v : {};
    } catch (e) { return {}; }
  }
  var state = load();
  state.messages = (Array.isArray(state.messages) ? state.messages : []).filter(function (m) {
    return m && typeof m === "object" && typeof m.text === "string";
  });
  function save() {
    state.messages = state.messages.slice(-MAX_KEPT);
    try { localStorage.setItem(STORE, JSON.stringify(state)); } catch (e) { /* private mode: not kept */ }
  }

  // --- the DOM ------------------------------------------------------------------------
  var host = el("div", { id: "jiangan-assistant" });
  var root = host.attachShadow({ mode: "open" });
  var wrap = el("div", { class: cfg.page ? "page" : "bubble" });
  wrap.style.setProperty("--c", cfg.color);
  var launcher = el("button", {
    class: "launcher", type: "button", "aria-label": "打开" + cfg.title, "aria-expanded": "false",
    "aria-controls": "ja-panel"
  });
  launcher.appendChild(icon("M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z"));
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "对话记录" });
  var suggestions = el("div", { class: "suggestions", role: "group", "aria-label": "常见问题" });
  var source = el("section", { class: "source", hidden: "", role: "region", "aria-label": "引用来源", tabindex: "-1" });
  var input = el("textarea", {
    "aria-label": "输入问题", placeholder: "请输入问题，按 Enter 发送", maxlength: "1000"
  });
  var send = el("button", { class: "send", type: "submit", text: "发送" });
  var form = el("form", { "aria-label": "提问" }, [input, send]);
  var closeBtn = el("button", { class: "close", type: "button", "aria-label": "关闭对话", text: "×" });
  var matchBtn = el("button", {
    class: "tool", type: "button", text: "政策匹配", "aria-label": "政策匹配：填写企业情况，查看可申请的政策",
    onclick: function () { showMatchForm(); }
  });
  var panel = el("section", { class: "panel", id: "ja-panel", role: "dialog", "aria-label": cfg.title }, [
    el("header", null, [el("h2", { text: cfg.title }), matchBtn, cfg.page ? null : closeBtn]),
    log, suggestions, source, form
  ]);
  if (!cfg.page) panel.setAttribute("hidden", "");
  root.appendChild(el("style", { text: CSS }));
  root.appendChild(wrap);
  if (!cfg.page) wrap.appendChild(launcher);
  wrap.appendChild(panel);

  cfg.questions.forEach(function (q) {
    suggestions.appendChild(el("button", {
      class: "suggestion", type: "button", text: q, onclick: function () { ask(q); }
    }));
  });

  function open() {
    panel.removeAttribute("hidden");
    launcher.setAttribute("aria-expanded", "true");
    input.focus();
  }
  function close() {
    if (cfg.page) return;
    panel.setAttribute("hidden", "");
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }
  launcher.addEventListener("click", function () { panel.hasAttribute("hidden") ? open() : close(); });
  closeBtn.addEventListener("click", close);
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") { e.preventDefault(); close(); } });
  input.addEventListener("keydown", function (e) {
    // 229: Safari reports the Enter that picks a pinyin candidate this way
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing && e.keyCode !== 229) { e.preventDefault(); submit(); }
  });
  form.addEventListener("submit", function (e) { e.preventDefault(); submit(); });
  function submit() {
    var q = input.value.trim();
    if (!q || send.disabled) return;
    input.value = "";
    ask(q);
  }

  // --- rendering (text only) ------------------------------------------------------------
  // Phone numbers become tel: links on phones (a tap dials); elsewhere they stay text.
  var PHONE = /(0\d{2,3}-\d{4}-?\d{3,4}|0\d{2,3}-\d{7,8}|1[3-9]\d{9}|\b12345\b|\b9\d{4}\b)/;
  var onPhone = !!(window.matchMedia && window.matchMedia("(pointer: coarse), (max-width: 480px)").matches);

  function phones(parent, text) {
    text.split(PHONE).forEach(function (part, i) {
      if (!part) return;
      if (i % 2 === 1) {
        parent.appendChild(onPhone
          ? el("a", { class: "tel", href: "tel:" + part.replace(/[^\d]/g, ""), text: part })
          : el("span", { class: "tel", text: part }));
      } else {
        parent.appendChild(document.createTextNode(part));
      }
    });
  }

  function inline(parent, text, msg) {  // [n] markers → buttons, phone numbers → links
    text.split(/(\[\d+\])/).forEach(function (part) {
      var m = /^\[(\d+)\]$/.exec(part);
      var src = m && msg.sources && msg.sources[Number(m[1]) - 1];
      if (src) {
        parent.appendChild(el("button", {
          class: "cite", type: "button", text: part, "aria-label": "查看来源 " + m[1] + "：" + (src.title || ""),
          onclick: function () { showSource(src); }
        }));
      } else if (part) {
        phones(parent, part);
      }
    });
  }

  // One element per line of the answer: a list stays a list (one item a line, steps keep
  // their numbers), a 「label：value」 row stays a row. Built as elements, never as HTML.
  var BULLET = /^\s*[-*•·▪●]\s*(.*)$/;
  var NUMBERED = /^\s*[(（]?(\d{1,2})[.．、)）]\s*(.*)$/;
  function renderText(body, text, msg) {
    var list = null;
    text.split("\n").forEach(function (line) {
      var b = BULLET.exec(line), n = b ? null : NUMBERED.exec(line);
      if (b || n) {
        var kind = b ? "ul" : "ol";
        if (!list || list.tagName.toLowerCase() !== kind) {
          list = el(kind, { class: "list" });
          body.appendChild(list);
        }
        var item = el("li", n ? { value: n[1] } : null);
        inline(item, b ? b[1] : n[2], msg);
        list.appendChild(item);
        return;
      }
      list = null;
      if (!line.trim()) return;
      var para = el("p", { class: "line" });
      inline(para, line, msg);
      body.appendChild(para);
    });
  }

  function renderAnswer(node, msg) {
    node.textContent = "";
    if (msg.service && msg.done && !msg.error) {
      node.appendChild(serviceCard(msg.service, msg));
    } else {
      var body = el("div", { class: "text" });
      renderText(body, String(msg.text || ""), msg);
      node.appendChild(body);
    }
    if (msg.matchForm) node.appendChild(matchForm(msg, node));
    if (msg.results) node.appendChild(matchResults(msg.results));
    if (msg.mode === "match" && msg.done && !msg.error) {
      node.appendChild(el("button", {
        class: "rate", type: "button", text: "填写「政策匹配」表单，结果更准", onclick: function () { showMatchForm(); }
      }));
    }
    node.classList.toggle("refused", msg.answered === false);
    if (msg.answered === false && msg.contact) {
      var contactLine = el("div", { class: "contact", text: "建议咨询：" });
      phones(contactLine, msg.contact);
      node.appendChild(contactLine);
    }
    if (msg.error) {
      node.appendChild(el("span", { class: "error", text: msg.error }));
      node.appendChild(el("button", {
        class: "retry", type: "button", text: "重试", onclick: function () { retry(msg, node); }
      }));
    }
    if (msg.done && !msg.error && !msg.noRate) node.appendChild(ratingBar(msg));
  }

  function ratingBar(msg) {
    var bar = el("div", { class: "meta" });
    [["up", "有用", "有帮助"], ["down", "没用", "没有帮助"]].forEach(function (r) {
      bar.appendChild(el("button", {
        class: "rate", type: "button", text: r[1], "aria-label": r[2],
        "aria-pressed": msg.rating === r[0] ? "true" : "false",
        onclick: function () { rate(msg, r[0], bar); }
      }));
    });
    if (msg.rating) bar.appendChild(el("span", { text: "感谢反馈" }));
    return bar;
  }

  // --- a service guide as a card: the asked fields first, the rest folded -------------------
  var FIELD_ORDER = ["audience", "conditions", "materials", "steps", "time_limit", "fee", "location",
    "hours", "phone", "online", "basis"];
  function fieldRow(svc, name, asked) {
    var labels = svc.labels || {};
    var value = el("div", { class: "value" });
    renderText(value, String((svc.fields || {})[name] || ""), { sources: [] });
    return el("div", { class: "row" + (asked ? " asked" : ""), role: "group", "aria-label": labels[name] || name }, [
      el("div", { class: "label", text: labels[name] || name }), value
    ]);
  }
  function serviceCard(svc, msg) {
    var fields = svc.fields || {};
    var asked = (Array.isArray(svc.asked) ? svc.asked : []).filter(function (f) { return f in fields; });
    var rest = FIELD_ORDER.filter(function (f) { return f in fields && asked.indexOf(f) < 0; });
    var src = msg.sources && msg.sources[0];
    var title = el("button", {
      class: "card-title", type: "button", text: svc.title || "办事指南", "aria-label": "查看来源：" + (svc.title || ""),
      onclick: function () { if (src) showSource(src); }
    });
    var head = el("div", { class: "card-head" }, [title]);
    if (src) {
      head.appendChild(el("button", {
        class: "cite", type: "button", text: "[1]", "aria-label": "查看来源 1：" + (src.title || ""),
        onclick: function () { showSource(src); }
      }));
    }
    if (svc.sample) head.appendChild(el("span", { class: "badge", text: "示例", title: "示例资料，非正式文件" }));
    if (svc.department) head.appendChild(el("span", { class: "card-dept", text: svc.department }));
    var card = el("div", { class: "card service", role: "group", "aria-label": "办事指南：" + (svc.title || "") }, [head]);
    asked.forEach(function (f) { card.appendChild(fieldRow(svc, f, true)); });
    if (rest.length) {
      var more = el("details", null, [el("summary", { text: (asked.length ? "完整办事指南（另有" + rest.length + "项）" : "办事指南") })]);
      rest.forEach(function (f) { more.appendChild(fieldRow(svc, f, false)); });
      if (!asked.length) more.setAttribute("open", "");
      card.appendChild(more);
    }
    var foot = el("div", { class: "card-foot" });
    if (svc.online_url && /^https?:\/\//i.test(svc.online_url)) {
      foot.appendChild(el("a", { class: "online", href: svc.online_url, target: "_blank", rel: "noopener noreferrer", text: "网上办理" }));
    }
    if (svc.contact) {
      var tel = el("span", { text: "咨询：" });
      phones(tel, svc.contact);
      foot.appendChild(tel);
    }
    if (foot.childNodes.length) card.appendChild(foot);
    return card;
  }

  // --- 政策匹配: a short profile form, the same API the backends call ---------------------------
  var QUALS = ["高新技术企业", "科技型中小企业", "专精特新", "专精特新小巨人", "规上企业"];
  function showMatchForm() {
    open();
    suggestions.setAttribute("hidden", "");
    var msg = { role: "bot", text: "填写企业情况（都可不填，填得越全越准），查看可以申请的政策：", sources: [], done: true, matchForm: true, noRate: true };
    var node = addMessage(msg);
    var first = node.querySelector("input");
    if (first) first.focus();
  }
  function matchForm(msg, node) {
    var ids = "ja-m-" + Math.random().toString(36).slice(2, 8);
    function field(label, input) {
      input.id = ids + "-" + input.name;
      return [el("label", { for: input.id, text: label }), input];
    }
    var district = el("input", { type: "text", name: "registered_in", value: "江岸区", maxlength: "50" });
    var industry = el("input", { type: "text", name: "industry", placeholder: "如 软件和信息技术服务业", maxlength: "50" });
    var established = el("input", { type: "date", name: "established", max: new Date().toISOString().slice(0, 10) });
    var employees = el("input", { type: "number", name: "employees", min: "0", step: "1", placeholder: "人" });
    var revenue = el("input", { type: "number", name: "revenue_wan", min: "0", step: "any", placeholder: "万元" });
    var rd = el("input", { type: "number", name: "rd_ratio", min: "0", max: "100", step: "any", placeholder: "%" });
    var quals = el("div", { class: "quals", role: "group", "aria-label": "企业资质" });
    QUALS.forEach(function (q) {
      quals.appendChild(el("label", null, [el("input", { type: "checkbox", value: q }), document.createTextNode(q)]));
    });
    var error = el("div", { class: "error", role: "alert" });
    var go = el("button", { class: "go", type: "submit", text: "开始匹配" });
    var form = el("form", { class: "mform", "aria-label": "政策匹配" },
      [].concat(field("注册地", district), field("所属行业", industry), field("成立日期", established),
        field("员工人数", employees), field("年营业收入", revenue), field("研发投入占比", rd),
        [el("span", { text: "企业资质" }), quals, error,
         el("div", { class: "hint", text: "结果按政策文件所列条件自动匹配，能否享受以主管部门审核为准。" }),
         el("div", { class: "actions" }, [go])]));
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      error.textContent = "";
      var profile = {};
      function num(input, key, scale, whole) {
        if (input.value === "") return true;
        var v = Number(input.value);
        if (!isFinite(v) || v < 0 || (whole && Math.floor(v) !== v)) {
          error.textContent = "请检查：" + input.previousSibling.textContent;
          input.focus();
          return false;
        }
        profile[key] = whole ? v : v * scale;
        return true;
      }
      if (district.value.trim()) profile.registered_in = district.value.trim();
      if (industry.value.trim()) profile.industry = industry.value.trim();
      if (established.value) profile.established = established.value;
      if (!num(employees, "employees", 1, true) || !num(revenue, "revenue_wan", 1, false) ||
          !num(rd, "rd_ratio", 0.01, false)) return;
      var held = Array.prototype.filter.call(quals.querySelectorAll("input"), function (c) { return c.checked; })
        .map(function (c) { return c.value; });
      if (held.length) profile.qualifications = held;
      go.disabled = true;
      fetch(cfg.api + "/api/policies/match", {
        method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ profile: profile })
      }).then(function (res) {
        return res.json().catch(function () { return {}; }).then(function (body) {
          if (!res.ok) {
            var e = body && body.error;
            throw new Error((e && (e.message_zh || e.message)) || "HTTP " + res.status);
          }
          return body;
        });
      }).then(function (body) {
        var matches = Array.isArray(body.matches) ? body.matches : [];
        var n = matches.filter(function (m) { return m.status === "eligible"; }).length;
        var p = matches.filter(function (m) { return m.status === "possible"; }).length;
        var result = {
          role: "bot", done: true, answered: true, noRate: true, results: matches, sources: [],
          text: matches.length ? "匹配结果：符合条件 " + n + " 项，可能符合 " + p + " 项（需补充或核实信息）。" : "知识库中暂无可匹配的有效政策。"
        };
        state.messages.push(result);
        save();
        addMessage(result);
      }).catch(function (err) {
        error.textContent = "匹配失败：" + (err && err.message ? err.message : "网络开小差了，请稍后重试");
      }).then(function () { go.disabled = false; });
    });
    return form;
  }
  function conditionList(cls, title, items) {
    if (!items || !items.length) return null;
    var list = el("ul", { class: cls, "aria-label": title });
    items.forEach(function (t) { list.appendChild(el("li", { text: String(t) })); });
    return list;
  }
  function policyItem(m) {
    var head = el("h4", { text: m.title || m.doc_id });
    var item = el("div", { class: "policy " + (m.status || "") }, [head]);
    if (m.benefit) item.appendChild(el("p", { class: "benefit", text: m.benefit }));
    if (m.valid_until) item.appendChild(el("p", { class: "valid", text: "有效期至 " + m.valid_until }));
    [conditionList("met", "已满足", m.met), conditionList("unknown", "待核实", m.unknown),
     conditionList("unmet", "不满足", m.unmet)].forEach(function (l) { if (l) item.appendChild(l); });
    return item;
  }
  function matchResults(matches) {
    var box = el("div", { class: "results" });
    [["eligible", "符合条件"], ["possible", "可能符合（需核实标“?”的条件）"], ["ineligible", "暂不符合"]].forEach(function (g) {
      var rows = matches.filter(function (m) { return m.status === g[0]; });
      if (!rows.length) return;
      var title = g[1] + "（" + rows.length + "）";
      if (g[0] === "ineligible") {
        var more = el("details", null, [el("summary", { class: "group", text: title })]);
        rows.forEach(function (m) { more.appendChild(policyItem(m)); });
        box.appendChild(more);
      } else {
        box.appendChild(el("div", { class: "group", text: title }));
        rows.forEach(function (m) { box.appendChild(policyItem(m)); });
      }
    });
    return box;
  }

  function showSource(src) {
    source.textContent = "";
    var head = el("h3", { text: src.title || "来源" });
    if (src.sample) head.appendChild(el("span", { class: "badge", text: "示例", title: "示例资料，非正式文件" }));
    if (src.expired) head.appendChild(el("span", { class: "badge expired", text: "已失效", title: "该政策已过有效期" }));
    source.appendChild(head);
    // a government document's particulars: 文号 · issuer · date of issue
    var official = [src.doc_number ? "文号：" + src.doc_number : "", src.issuer || "",
      src.issued ? src.issued + " 印发" : ""].filter(Boolean);
    if (official.length) source.appendChild(el("p", { class: "dept docno", text: official.join(" · ") }));
    if (src.valid_until) {
      source.appendChild(el("p", { class: src.expired ? "dept error" : "dept", text: (src.expired ? "已于 " : "有效期至 ") + src.valid_until + (src.expired ? " 到期失效" : "") }));
    }
    var facts = [src.department, src.section, src.page ? "第 " + src.page + " 页" : "", src.updated ? "更新于 " + src.updated : ""].filter(Boolean);
    if (facts.length) source.appendChild(el("p", { class: "dept", text: facts.join(" · ") }));
    if (src.snippet) {
      var snippet = el("p");
      phones(snippet, src.snippet);
      source.appendChild(snippet);
    }
    if (src.contact) {
      var contact = el("p", { class: "dept", text: "咨询电话：" });
      phones(contact, src.contact);
      source.appendChild(contact);
    }
    if (src.url && /^https?:\/\//i.test(src.url)) {
      source.appendChild(el("a", { href: src.url, target: "_blank", rel: "noopener noreferrer", text: "查看原文" }));
    }
    source.appendChild(el("button", {
      class: "rate", type: "button", text: "收起", "aria-label": "收起来源",
      onclick: function () { source.setAttribute("hidden", ""); input.focus(); }
    }));
    source.removeAttribute("hidden");
    source.focus();
  }

  function addMessage(msg) {
    var node = el("div", { class: "msg " + (msg.role === "user" ? "user" : "bot") });
    if (msg.role === "user") node.textContent = msg.text;
    else renderAnswer(node, msg);
    log.appendChild(node);
    log.scrollTop = log.scrollHeight;
    return node;
  }

  // --- talking to the server --------------------------------------------------------------
  function ask(question) {
    if (send.disabled) return;  // one answer at a time
    suggestions.setAttribute("hidden", "");
    var user = { role: "user", text: question };
    state.messages.push(user);
    addMessage(user);
    var msg = { role: "bot", text: "", question: question, sources: [], done: false };
    state.messages.push(msg);
    save();  // a reload while the answer streams keeps the question
    stream(msg, addMessage(msg));
  }

  function retry(msg, node) {
    if (send.disabled) return;
    msg.error = null;
    msg.text = "";
    stream(msg, node);
  }

  function stream(msg, node) {
    send.disabled = true;
    fetch(cfg.api + "/api/chat/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: msg.question, session_id: state.session_id || null })
    }).then(function (res) {
      if (!res.ok || !res.body) return refused(res);
      var reader = res.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) {
            if (buffer.trim()) handle(buffer, msg, node);  // a last event without its blank line
            return;
          }
          buffer += decoder.decode(chunk.value, { stream: true }).replace(/\r\n?/g, "\n");
          var blocks = buffer.split("\n\n");
          buffer = blocks.pop();
          blocks.forEach(function (block) { handle(block, msg, node); });
          return pump();
        });
      }
      return pump();
    }).then(function () {
      if (!msg.done) throw new Error("incomplete answer");
    }).catch(function (err) {
      // the server's own words when it refused (429 too many questions, 503 busy), else ours
      msg.error = (err && err.said) || "网络开小差了，暂时无法回答。";
      msg.done = false;
      renderAnswer(node, msg);
    }).then(function () {
      send.disabled = false;
      save();
    });
  }

  function refused(res) {
    return res.json().catch(function () { return null; }).then(function (body) {
      var err = new Error("HTTP " + res.status);
      err.said = body && body.error && body.error.message_zh;
      throw err;
    });
  }

  function handle(block, msg, node) {
    var name = "message", data = "";
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event:") === 0) name = line.slice(6).trim();
      else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
    });
    var payload = {};
    try { payload = JSON.parse(data || "{}"); } catch (e) { return; }
    if (name === "delta") msg.text += payload.text || "";
    else if (name === "reset") msg.text = "";
    else if (name === "sources") msg.sources = payload.sources || [];
    else if (name === "done") {
      msg.done = true;
      msg.answered = payload.answered;
      msg.contact = payload.contact || "";
      msg.mode = payload.mode;
      msg.service = payload.service || null;
      if (typeof payload.answer === "string") msg.text = payload.answer;
      if (payload.session_id) state.session_id = payload.session_id;
    } else if (name === "error") {
      throw new Error(payload.code || "error");
    }
    renderAnswer(node, msg);
    log.scrollTop = log.scrollHeight;
  }

  function rate(msg, rating, bar) {
    fetch(cfg.api + "/api/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        session_id: state.session_id || null, question: msg.question, answer: msg.text, rating: rating
      })
    }).then(function (res) {
      if (!res.ok) throw new Error("HTTP " + res.status);
      msg.rating = rating;
      save();
      bar.replaceWith(ratingBar(msg));
    }).catch(function () {
      bar.appendChild(el("span", { class: "error", text: "反馈未能提交，请稍后重试" }));
    });
  }

  // --- start ----------------------------------------------------------------------------
  addMessage({ role: "bot", text: cfg.welcome, sources: [], done: false });
  if (state.messages.length) suggestions.setAttribute("hidden", "");
  state.messages.forEach(function (m) {
    if (m.role === "bot" && !m.done && !m.error) m.error = "上次的回答没有完成。";
    addMessage(m);
  });
  function mount() { document.body.appendChild(host); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
