// Web chat: WebSocket with resume by sequence number; everything typed is rendered as text.
(function () {
  "use strict";
  var list = document.getElementById("messages");
  var form = document.getElementById("composer");
  var input = document.getElementById("input");
  var statusEl = document.getElementById("status");
  var typingEl = document.getElementById("typing");
  var KEY = "kefu.conversation";
  var TOKEN_KEY = "kefu.customer_token"; // the conversation's secret: sent with every call, shown to no one
  var conversationId = localStorage.getItem(KEY);
  var customerToken = localStorage.getItem(TOKEN_KEY);
  if (!customerToken) conversationId = null;
  var lastSeq = 0;
  var seen = {};
  var outbox = [];
  var unacked = {}; // client_msg_id -> frame, resent on every reconnect until the server echoes it
  var ws = null;
  var retry = 0;
  var SENDER = { bot: "智能助手", agent: "人工客服", system: "系统消息", customer: "我" };

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function render(m) {
    if (seen[m.seq]) return;
    seen[m.seq] = true;
    if (m.client_msg_id) {
      var pending = document.querySelector('[data-client-id="' + CSS.escape(m.client_msg_id) + '"]');
      if (pending) pending.remove();
      delete unacked[m.client_msg_id];
    }
    var li = el("li", "msg " + m.sender);
    li.dataset.seq = m.seq;
    if (m.sender !== "customer") li.appendChild(el("span", "who", SENDER[m.sender] || m.sender));
    li.appendChild(el("span", "text", (m.custom && m.custom.display) || m.text));
    if (m.buttons && m.buttons.length) {
      var box = el("div", "buttons");
      m.buttons.forEach(function (b) {
        var btn = el("button", "", b.title);
        btn.type = "button";
        btn.addEventListener("click", function () { send(b.payload, b.title); });
        box.appendChild(btn);
      });
      li.appendChild(box);
    }
    if (m.citations && m.citations.length) {
      var cites = el("div", "citations", "依据：");
      m.citations.forEach(function (c) {
        var a = el("a", "", "《服务指南》" + c.section + (c.title ? " " + c.title : ""));
        a.href = "/kb/sections/" + encodeURIComponent(c.section);
        a.target = "_blank";
        a.rel = "noopener";
        cites.appendChild(a);
      });
      li.appendChild(cites);
    }
    var csat = m.custom && m.custom.csat;
    if (csat && csat.ticket_id) li.appendChild(csatForm(String(csat.ticket_id)));
    var after = null;
    list.querySelectorAll("li[data-seq]").forEach(function (n) {
      if (!after && Number(n.dataset.seq) > m.seq) after = n;
    });
    list.insertBefore(li, after || list.querySelector("li.pending"));
    if (m.seq > lastSeq) lastSeq = m.seq;
    list.scrollTop = list.scrollHeight;
  }

  function csatForm(ticketId) {
    var box = el("form", "csat");
    box.appendChild(el("span", "csat-label", "请为本次服务评分："));
    var score = 0;
    var stars = el("div", "stars");
    for (var i = 1; i <= 5; i++) {
      (function (n) {
        var b = el("button", "star", "☆");
        b.type = "button";
        b.setAttribute("aria-label", n + " 星");
        b.addEventListener("click", function () {
          score = n;
          stars.querySelectorAll("button").forEach(function (x, j) { x.textContent = j < n ? "★" : "☆"; });
        });
        stars.appendChild(b);
      })(i);
    }
    box.appendChild(stars);
    var comment = el("input", "csat-comment");
    comment.placeholder = "补充意见（选填）";
    comment.maxLength = 500;
    box.appendChild(comment);
    var submit = el("button", "csat-submit", "提交评价");
    submit.type = "submit";
    box.appendChild(submit);
    box.addEventListener("submit", function (ev) {
      ev.preventDefault();
      if (!score) return;
      var payload = { ticket_id: ticketId, score: score, comment: comment.value.trim() };
      send("/rate_ticket" + JSON.stringify(payload), "评分：" + "★".repeat(score) + (payload.comment ? " " + payload.comment : ""));
      box.replaceWith(el("p", "csat-done", "感谢您的评价！"));
    });
    return box;
  }

  function uid() {
    return Date.now().toString(36) + Math.random().toString(36).slice(2, 10);
  }

  function send(text, shown) {
    text = (text || "").trim();
    if (!text) return;
    var item = { type: "message", text: text, client_msg_id: uid() };
    var li = el("li", "msg customer pending", shown || text);
    li.dataset.clientId = item.client_msg_id;
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
    unacked[item.client_msg_id] = item;
    outbox.push(item);
    flush();
  }

  function flush() {
    while (ws && ws.readyState === WebSocket.OPEN && outbox.length) {
      ws.send(JSON.stringify(outbox[0]));
      outbox.shift();
    }
  }

  function connect() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    ws = new WebSocket(proto + location.host + "/ws/conversations/" + encodeURIComponent(conversationId) +
      "?after=" + lastSeq + "&token=" + encodeURIComponent(customerToken));
    ws.onopen = function () {
      retry = 0;
      statusEl.textContent = "在线";
      // Resend everything not yet echoed back; the server stores each client_msg_id once.
      outbox = Object.keys(unacked).map(function (k) { return unacked[k]; });
      flush();
    };
    ws.onmessage = function (ev) {
      var data = JSON.parse(ev.data);
      if (data.type === "message") { typingEl.hidden = true; render(data.message); }
      else if (data.type === "typing") { typingEl.hidden = false; }
      else if (data.type === "state") {
        typingEl.hidden = true;
        statusEl.textContent = data.handled_by === "agent" ? "人工客服为您服务" : data.handled_by === "queue" ? "排队等待人工客服" : "在线";
      } else if (data.type === "error") { typingEl.hidden = true; statusEl.textContent = data.error.message; }
    };
    ws.onclose = function (ev) {
      if (ev.code === 4404 || ev.code === 4401 || ev.code === 4403) {
        // The conversation expired or its secret no longer holds (key rotated): start a new one.
        localStorage.removeItem(KEY);
        localStorage.removeItem(TOKEN_KEY);
        conversationId = null;
        start();
        return;
      }
      statusEl.textContent = "连接已断开，正在重连…";
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, 500 * Math.pow(2, retry - 1));
    };
  }

  function start() {
    var ready = conversationId
      ? Promise.resolve()
      : fetch("/api/conversations", { method: "POST" }).then(function (r) {
          if (!r.ok) throw new Error("HTTP " + r.status); // e.g. 429: retried below
          return r.json();
        }).then(function (b) {
          conversationId = b.conversation_id;
          customerToken = b.customer_token;
          localStorage.setItem(KEY, conversationId);
          localStorage.setItem(TOKEN_KEY, customerToken);
        });
    ready.then(connect).catch(function () {
      statusEl.textContent = "无法连接客服，正在重试…";
      setTimeout(start, 2000);
    });
  }

  form.addEventListener("submit", function (ev) { ev.preventDefault(); send(input.value); input.value = ""; });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
  });
  document.getElementById("human").addEventListener("click", function () { send("/request_human", "转人工"); });
  start();
})();
