/* Agent console: sign-in, live queue, claim, chat, agent assist, tickets, supervisor views.
   Everything a customer or agent typed is rendered with textContent, never as HTML. */
(function () {
  "use strict";
  var TOKEN_KEY = "kefu.console.token";
  var SENDER = { bot: "智能助手", agent: "人工客服", system: "系统消息", customer: "客户" };
  var STATE = { bot: "机器人接待", queue: "排队中", agent: "人工接待" };
  var CHANNEL = { web: "网页", telegram: "Telegram", wechat: "微信" };
  var s = { token: sessionStorage.getItem(TOKEN_KEY), me: null, selected: null, info: null, seqs: {},
            ws: null, retry: 0, timers: {}, ping: null };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  // agent_tools.js (canned replies, notes, labels, search, availability) follows the console by these events.
  function tell(name, detail) { document.dispatchEvent(new CustomEvent("kefu:" + name, { detail: detail })); }
  window.kefuConsole = { el: el, clear: clear, time: time, errorText: errorText };
  function later(key, fn, ms) { clearTimeout(s.timers[key]); s.timers[key] = setTimeout(fn, ms); }
  function errorText(data, fallback) {
    return (data && data.error && data.error.message) ? data.error.message : fallback;
  }
  function waited(seconds) {
    if (seconds < 60) return seconds + " 秒";
    if (seconds < 3600) return Math.floor(seconds / 60) + " 分钟";
    return Math.floor(seconds / 3600) + " 小时 " + Math.floor((seconds % 3600) / 60) + " 分";
  }
  function time(iso) {
    if (!iso) return "";
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString("zh-CN", { hour12: false });
  }

  function api(method, path, body) {
    var opts = { method: method, headers: { "Authorization": "Bearer " + s.token } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (t) {
        var data = null;
        try { data = t ? JSON.parse(t) : null; } catch (e) { data = null; }
        if (r.status === 401 && path !== "/api/agent/login") signedOut("登录已失效，请重新登录");
        return { status: r.status, ok: r.ok, data: data };
      });
    });
  }

  // ------------------------------------------------------------------ sign-in
  function showLogin(message) {
    $("desk-view").hidden = true;
    $("login-view").hidden = false;
    $("login-error").textContent = message || "";
    $("username").focus();
  }
  function signedOut(message) {
    s.token = null; s.me = null;
    sessionStorage.removeItem(TOKEN_KEY);
    if (s.ws) { s.ws.onclose = null; s.ws.close(); s.ws = null; }
    clearInterval(s.ping);
    showLogin(message);
  }
  $("login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("login-button").disabled = true;
    fetch("/api/agent/login", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: $("username").value.trim(), password: $("password").value }) })
      .then(function (r) { return r.json().then(function (d) { return { ok: r.ok, data: d }; }); })
      .then(function (res) {
        if (!res.ok) { $("login-error").textContent = errorText(res.data, "登录失败"); return; }
        s.token = res.data.token;
        sessionStorage.setItem(TOKEN_KEY, s.token);
        $("password").value = "";
        start();
      })
      .catch(function () { $("login-error").textContent = "网络错误，请稍后再试"; })
      .then(function () { $("login-button").disabled = false; });
  });
  $("logout").addEventListener("click", function () {
    api("POST", "/api/agent/logout").then(function () { signedOut(""); });
  });

  function start() {
    api("GET", "/api/agent/me").then(function (res) {
      if (!res.ok) { if (res.status !== 401) showLogin(errorText(res.data, "无法连接服务器")); return; }
      s.me = res.data;
      $("login-view").hidden = true;
      $("desk-view").hidden = false;
      $("whoami").textContent = s.me.display_name + "（" + ({ agent: "坐席", supervisor: "主管", admin: "管理员" }[s.me.role] || s.me.role) + "）";
      var sup = s.me.role === "supervisor" || s.me.role === "admin";
      $("supervisor-panel").hidden = !sup;
      $("assign-box").hidden = !sup;
      connect();
      refresh();
      tell("start", s.me);
    });
  }

  // ------------------------------------------------------------------ live socket
  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    var ws = new WebSocket(proto + location.host + "/ws/agent?token=" + encodeURIComponent(s.token));
    s.ws = ws;
    ws.onopen = function () {
      s.retry = 0;
      $("live").textContent = "实时在线"; $("live").className = "live";
      refresh();
      if (s.selected) select(s.selected);
      clearInterval(s.ping);
      s.ping = setInterval(function () { if (ws.readyState === 1) ws.send(JSON.stringify({ type: "ping" })); }, 25000);
    };
    ws.onmessage = function (ev) {
      var data;
      try { data = JSON.parse(ev.data); } catch (e) { return; }
      tell("event", data);
      if (data.type === "queue" || data.type === "agents") {
        later("lists", refresh, 150);
        if (data.conversation_id && data.conversation_id === s.selected) later("sel", function () { select(s.selected, true); }, 150);
      } else if (data.type === "message") {
        if (data.conversation_id === s.selected) {
          addMessage(data.message);
          if (data.message.sender === "customer") later("assist", loadAssist, 400);
        }
        later("lists", refresh, 300);
      } else if (data.type === "error") {
        $("chat-error").textContent = errorText(data, "操作失败");
      }
    };
    ws.onclose = function (ev) {
      $("live").textContent = "连接已断开，正在重连…"; $("live").className = "live off";
      clearInterval(s.ping);
      if (ev.code === 4401) { signedOut("登录已失效，请重新登录"); return; }
      if (!s.token) return;
      s.retry = Math.min(s.retry + 1, 6);
      setTimeout(function () { if (s.token) connect(); }, 500 * Math.pow(2, s.retry));
    };
  }

  // ------------------------------------------------------------------ lists
  function refresh() {
    if (!s.token) return;
    api("GET", "/api/agent/queue").then(function (res) {
      if (!res.ok) return;
      renderConvs($("queue"), res.data.items, true);
      $("queue-count").textContent = res.data.total;
      $("hours").textContent = "人工服务时间 " + res.data.working_hours + (res.data.open_now ? "（服务中）" : "（非工作时间）");
    });
    api("GET", "/api/agent/conversations?scope=mine").then(function (res) {
      if (!res.ok) return;
      renderConvs($("mine"), res.data.items, false);
      $("mine-count").textContent = res.data.total;
    });
    if (s.me && (s.me.role === "supervisor" || s.me.role === "admin")) refreshSupervisor();
  }
  function renderConvs(list, items, queued) {
    clear(list);
    if (!items.length) { list.appendChild(el("li", "sub", queued ? "暂无排队客户" : "暂无")); return; }
    items.forEach(function (c) {
      var li = el("li", "conv" + (c.conversation_id === s.selected ? " selected" : ""));
      li.dataset.id = c.conversation_id;
      var line = el("div", "line1");
      line.appendChild(el("span", c.priority >= 20 ? "prio-high" : "",
        (queued ? "#" + c.position + " " : "") + c.reason_label));
      line.appendChild(el("span", "sub", queued ? "已等待 " + waited(c.waiting_seconds) : (STATE[c.state] || c.state) + (c.assigned_agent ? " · " + c.assigned_agent : "")));
      li.appendChild(line);
      li.appendChild(el("div", "preview", c.last_customer_text || "（无文字消息）"));
      li.appendChild(el("div", "sub", (CHANNEL[c.channel] || c.channel) + (c.after_hours ? " · 非工作时间" : "") + (c.ticket_id ? " · 已留言 " + c.ticket_id : "")));
      li.addEventListener("click", function () { select(c.conversation_id); });
      list.appendChild(li);
    });
    tell("list", list.id);
  }
  function refreshSupervisor() {
    api("GET", "/api/agent/conversations?scope=all").then(function (res) {
      if (res.ok) renderConvs($("all"), res.data.items, false);
    });
    api("GET", "/api/agent/agents").then(function (res) {
      if (!res.ok) return;
      var list = $("agents"), select = $("assign-agent");
      clear(list); clear(select);
      res.data.items.forEach(function (a) {
        var li = el("li");
        li.appendChild(el("span", "dot" + (a.online ? " on" : "")));
        li.appendChild(document.createTextNode(a.display_name + "（" + a.username + "） 接待中 " + a.holding.length + (a.active ? "" : " · 已停用")));
        list.appendChild(li);
        if (a.active) { var o = el("option", "", a.display_name + "（" + a.username + "）"); o.value = a.username; select.appendChild(o); }
      });
    });
    api("GET", "/api/agent/audit?limit=30").then(function (res) {
      if (!res.ok) return;
      var list = $("audit");
      clear(list);
      res.data.items.forEach(function (a) {
        list.appendChild(el("li", "", time(a.at) + " " + a.actor + " " + a.action + (a.ticket_id ? " " + a.ticket_id : "") + (a.conversation_id ? " 会话 " + a.conversation_id.slice(0, 6) : "")));
      });
    });
  }

  // ------------------------------------------------------------------ one conversation
  function select(id, keep) {
    s.selected = id;
    Array.prototype.forEach.call(document.querySelectorAll(".conv"), function (n) { n.classList.toggle("selected", n.dataset.id === id); });
    api("GET", "/api/agent/conversations/" + encodeURIComponent(id)).then(function (res) {
      if (!res.ok) { $("chat-error").textContent = errorText(res.data, "无法打开会话"); return; }
      var c = res.data;
      s.info = c;
      $("empty").hidden = true; $("chat").hidden = false; $("assist").hidden = false;
      $("chat-title").textContent = "会话 " + c.conversation_id.slice(0, 8) + " · " + (CHANNEL[c.channel] || c.channel);
      $("chat-state").textContent = (STATE[c.state] || c.state) + (c.assigned_agent ? "：" + c.assigned_agent : "");
      $("chat-reason").textContent = c.reason ? "转人工原因：" + c.reason : "";
      var mine = c.state === "agent" && s.me && c.assigned_agent === s.me.username;
      var sup = s.me && (s.me.role === "supervisor" || s.me.role === "admin");
      $("claim").hidden = !(c.state === "queue" || (c.state === "bot" && sup));
      $("release").hidden = !(mine || (sup && c.state !== "bot"));
      $("resolve").hidden = !(mine || (sup && c.state === "agent"));
      $("reply").hidden = !mine;
      if (!keep) { $("chat-error").textContent = ""; clear($("transcript")); s.seqs = {}; }
      c.messages.forEach(addMessage);
      if (!keep) loadAssist();
      tell("conversation", { info: c, keep: !!keep });
    });
  }
  function addMessage(m) {
    if (s.seqs[m.seq]) return;
    s.seqs[m.seq] = true;
    var li = el("li", "msg " + (SENDER[m.sender] ? m.sender : "system"));
    li.dataset.seq = m.seq;
    li.appendChild(el("span", "who", (SENDER[m.sender] || m.sender) + " " + time(m.created_at)));
    var shown = m.custom && m.custom.display ? "［按钮］" + m.custom.display : m.text;
    li.appendChild(el("span", "text", shown));
    var list = $("transcript");
    var after = Array.prototype.find.call(list.children, function (n) { return Number(n.dataset.seq) > m.seq; });
    list.insertBefore(li, after || null);
    list.scrollTop = list.scrollHeight;
  }

  function act(path, body, okText) {
    if (!s.selected) return;
    var id = s.selected;
    $("chat-error").textContent = "";
    api("POST", "/api/agent/conversations/" + encodeURIComponent(id) + path, body).then(function (res) {
      if (!res.ok) { $("chat-error").textContent = errorText(res.data, "操作失败"); }
      else if (okText) { $("chat-error").textContent = ""; }
      refresh();
      select(id, true);
    });
  }
  $("claim").addEventListener("click", function () { act("/claim"); });
  $("release").addEventListener("click", function () { act("/release", { note: "" }); });
  $("resolve").addEventListener("click", function () { act("/resolve", { note: "" }); });
  $("assign").addEventListener("click", function () { act("/assign", { agent: $("assign-agent").value }); });

  $("reply").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var text = $("reply-text").value.trim();
    if (!text || !s.selected) return;
    $("send").disabled = true;
    api("POST", "/api/agent/conversations/" + encodeURIComponent(s.selected) + "/messages", { text: text })
      .then(function (res) {
        if (!res.ok) { $("chat-error").textContent = errorText(res.data, "发送失败"); return; }
        $("reply-text").value = "";
        addMessage(res.data.message);
      })
      .then(function () { $("send").disabled = false; $("reply-text").focus(); });
  });
  $("reply-text").addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); $("reply").requestSubmit(); }
  });

  // ------------------------------------------------------------------ agent assist
  function kv(box, pairs) {
    clear(box);
    pairs.forEach(function (p) { box.appendChild(el("span", "k", p[0])); box.appendChild(el("span", "v", p[1])); });
    if (!pairs.length) box.appendChild(el("span", "sub", "暂无"));
  }
  function loadAssist() {
    var id = s.selected;
    if (!id) return;
    api("GET", "/api/agent/conversations/" + encodeURIComponent(id) + "/assist").then(function (res) {
      if (!res.ok || id !== s.selected) return;
      var a = res.data;
      var who = [["手机号", a.customer.phone_masked || "未知"], ["身份验证", a.customer.verified ? "已短信验证" : "未验证"]];
      if (a.handoff) {
        who.push(["转人工原因", a.handoff.reason_label]);
        if (a.handoff.note) who.push(["机器人备注", a.handoff.note]);
        if (a.handoff.ticket_id) who.push(["留言工单", a.handoff.ticket_id]);
      }
      if (a.understanding.active_form) who.push(["未完成表单", a.understanding.active_form]);
      kv($("identity"), who);
      $("kb-query").textContent = a.kb_query ? "依据客户最后一句：" + a.kb_query : "";
      var kb = $("kb-passages");
      clear(kb);
      a.kb_passages.forEach(function (p) {
        var li = el("li", "kb-passage");
        li.appendChild(el("span", "title", "《服务指南》" + p.section + " " + p.title));
        var use = el("button", "", "引用");
        use.type = "button";
        use.addEventListener("click", function () {
          var box = $("reply-text");
          box.value = (box.value ? box.value + "\n" : "") + p.text + "（依据《服务指南》" + p.section + "）";
          box.focus();
        });
        li.appendChild(use);
        li.appendChild(el("div", "", p.text));
        kb.appendChild(li);
      });
      if (!a.kb_passages.length) kb.appendChild(el("li", "sub", "暂无推荐段落"));
      var intents = $("intents");
      clear(intents);
      a.understanding.intents.slice().reverse().forEach(function (t) {
        intents.appendChild(el("li", "", (t.intent || "?") + "  " + (t.confidence === null ? "" : (t.confidence * 100).toFixed(0) + "%") + " — " + t.text));
      });
      if (!a.understanding.intents.length) intents.appendChild(el("li", "sub", "暂无"));
      kv($("slots"), Object.keys(a.understanding.slots).map(function (k) { return [k, a.understanding.slots[k]]; }));
      renderTickets(a.tickets);
      var notices = $("notices");
      clear(notices);
      a.notices.forEach(function (n) { notices.appendChild(el("li", "", n)); });
    });
  }
  function renderTickets(tickets) {
    var list = $("tickets");
    clear(list);
    if (!tickets.length) { list.appendChild(el("li", "sub", "暂无工单")); return; }
    tickets.forEach(function (t) {
      var li = el("li", "ticket");
      li.appendChild(el("div", "", t.id + " · " + t.type_label + " · " + t.status_label));
      li.appendChild(el("div", "sub", t.department_label + " · 时限 " + time(t.due_at) + (t.overdue ? " · 已超时" : "")));
      var ops = el("div", "ops");
      [["in_progress", "处理中"], ["waiting_customer", "待客户"], ["resolved", "已解决"]].forEach(function (op) {
        if (op[0] === t.status) return;
        var b = el("button", "", op[1]);
        b.type = "button";
        b.addEventListener("click", function () {
          api("POST", "/api/tickets/" + encodeURIComponent(t.id) + "/status", { status: op[0], note: "坐席工作台操作" })
            .then(function (res) {
              $("ticket-result").textContent = res.ok ? t.id + " 已更新为 " + op[1] : errorText(res.data, "更新失败");
              loadAssist();
            });
        });
        ops.appendChild(b);
      });
      li.appendChild(ops);
      list.appendChild(li);
    });
  }
  $("ticket-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    if (!s.selected) return;
    var body = { category: $("ticket-category").value, type: $("ticket-type").value.trim(),
                 description: $("ticket-description").value.trim() };
    var phone = $("ticket-phone").value.trim();
    if (phone) body.phone = phone;
    api("POST", "/api/agent/conversations/" + encodeURIComponent(s.selected) + "/tickets", body).then(function (res) {
      if (!res.ok) { $("ticket-result").textContent = errorText(res.data, "创建失败"); return; }
      $("ticket-result").textContent = "已创建工单 " + res.data.id + "（" + res.data.department_label + "）";
      $("ticket-description").value = "";
      loadAssist();
    });
  });

  setInterval(function () { if (s.token && !$("desk-view").hidden) refresh(); }, 30000);
  if (s.token) start(); else showLogin("");
})();
