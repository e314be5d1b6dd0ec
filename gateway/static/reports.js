/* Supervisor reports: fetch /api/reports for the chosen period and channel, draw each figure with
   Chart.js (vendored, /static/vendor), show its totals and table, offer its CSV. Signs in with the
   console's session (sessionStorage, same origin). No inline script or style (the page's CSP). */
(function () {
  "use strict";
  var TOKEN_KEY = "kefu.console.token";
  var token = sessionStorage.getItem(TOKEN_KEY);
  var charts = [];
  var COLORS = ["#1f4e79", "#3e8ed0", "#f0b429", "#e12d39", "#27ab83", "#9446ed", "#7b8794", "#f7d070", "#57ae5b", "#c65d7b"];
  var LABELS = {
    conversations: "会话数", contained: "机器人独立解决", with_human: "转人工", rate: "比率", handoffs: "转人工次数",
    claimed: "已接入", unclaimed: "未接入", answered: "已回复", wait_p50_s: "排队 p50（秒）", wait_p90_s: "排队 p90（秒）",
    first_response_p50_s: "首次响应 p50（秒）", first_response_p90_s: "首次响应 p90（秒）", messages: "消息数",
    conversations_per_hour: "每小时会话", messages_per_hour: "每小时消息", turns: "机器人回合", fallback: "兜底次数",
    fallback_rate: "兜底率", kb_answers: "知识库回答", kb_answer_rate: "知识库回答率", not_solved: "「没解决」",
    not_solved_rate: "「没解决」率", tickets: "工单数", met: "达标", breached: "超时", at_risk: "临近超时",
    on_track: "正常处理中", compliance: "达标率", ratings: "评价数", average: "平均分", incidents: "故障事件", open: "未恢复"
  };
  var RATES = { rate: 1, fallback_rate: 1, kb_answer_rate: 1, not_solved_rate: 1, compliance: 1 };

  function $(id) { return document.getElementById(id); }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function notice(text) { $("notice").textContent = text; $("notice").hidden = !text; }
  function fmt(key, v) {
    if (v === null || v === undefined) return "—";
    if (RATES[key]) return (v * 100).toFixed(1) + "%";
    return String(v);
  }
  function params() {
    // Empty dates: the server's default period in the contact centre's timezone, not the browser's.
    var p = new URLSearchParams();
    if ($("from").value) p.set("from", $("from").value);
    if ($("to").value) p.set("to", $("to").value);
    if ($("channel").value) p.set("channel", $("channel").value);
    return p.toString();
  }
  function call(path) {
    return fetch(path, { headers: { "Authorization": "Bearer " + token } }).then(function (r) {
      if (r.status === 401) throw new Error("请先在坐席工作台以主管身份登录。");
      if (r.status === 403) throw new Error("只有主管和管理员可以查看报表。");
      if (!r.ok) return r.json().then(function (b) { throw new Error((b.error && b.error.message) || ("错误 " + r.status)); });
      return r;
    });
  }

  function col(figure, name) {
    var i = figure.columns.indexOf(name);
    return figure.rows.map(function (r) { return r[i]; });
  }
  function bars(labels, sets, opts) {
    return { type: "bar", data: { labels: labels, datasets: sets.map(function (s, i) {
      return { label: s[0], data: s[1], backgroundColor: COLORS[i % COLORS.length] };
    }) }, options: opts || {} };
  }
  var STACKED = { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } };

  // One chart per figure, from its table (the API's rows), so the chart and the CSV agree.
  var CHARTS = {
    containment: function (f) {
      return { type: "doughnut", data: { labels: ["机器人独立解决", "转人工"], datasets: [{
        data: col(f, "conversations"), backgroundColor: [COLORS[4], COLORS[2]] }] } };
    },
    handoffs: function (f) { return bars(col(f, "label"), [["转人工次数", col(f, "handoffs")]]); },
    queue_wait: function (f) {
      return bars(["排队等待", "首次响应"], [["p50（秒）", col(f, "p50_s")], ["p90（秒）", col(f, "p90_s")]]);
    },
    per_hour: function (f) {
      return bars(col(f, "hour").map(function (h) { return h + "时"; }),
        [["会话", col(f, "conversations")], ["消息", col(f, "messages")]]);
    },
    intents: function (f) { return bars(col(f, "intent"), [["回合数", col(f, "turns")]], { indexAxis: "y" }); },
    kb_answers: function (f) { return bars(["知识库回答", "「没解决」"], [["次数", col(f, "count")]]); },
    tickets: function (f) {
      var cats = [], sevs = [];
      f.rows.forEach(function (r) { if (cats.indexOf(r[1]) < 0) cats.push(r[1]); if (sevs.indexOf(r[3]) < 0) sevs.push(r[3]); });
      return bars(cats, sevs.map(function (s) {
        return [s, cats.map(function (c) {
          var row = f.rows.filter(function (r) { return r[1] === c && r[3] === s; })[0];
          return row ? row[4] : 0;
        })];
      }), STACKED);
    },
    sla: function (f) {
      return bars(col(f, "department_label"), [["达标", col(f, "met")], ["超时", col(f, "breached")],
        ["临近超时", col(f, "at_risk")], ["正常处理中", col(f, "on_track")]], STACKED);
    },
    csat: function (f) {
      var d = f.summary.distribution || {};
      return bars(["1分", "2分", "3分", "4分", "5分"], [["评价数", ["1", "2", "3", "4", "5"].map(function (k) { return d[k] || 0; })]]);
    },
    incidents: function (f) {
      return bars(col(f, "district"), [["故障事件", col(f, "incidents")], ["关联工单", col(f, "tickets")]]);
    }
  };

  function summary(f) {
    var box = el("p", "summary");
    Object.keys(f.summary).forEach(function (k) {
      var v = f.summary[k];
      if (v !== null && typeof v === "object") return;  // shown by the chart
      var item = el("span", "", (LABELS[k] || k) + "：");
      item.appendChild(el("b", "", fmt(k, v)));
      box.appendChild(item);
    });
    return box;
  }
  function table(f) {
    var details = el("details");
    details.appendChild(el("summary", "", "明细表（" + f.rows.length + " 行）"));
    var t = el("table"), head = el("tr");
    f.columns.forEach(function (c) { head.appendChild(el("th", "", c)); });
    t.appendChild(head);
    f.rows.forEach(function (r) {
      var tr = el("tr");
      r.forEach(function (v, i) { tr.appendChild(el("td", "", fmt(f.columns[i], v))); });
      t.appendChild(tr);
    });
    details.appendChild(t);
    return details;
  }
  function download(name) {
    call("/api/reports/" + name + ".csv?" + params()).then(function (r) { return r.blob(); }).then(function (blob) {
      var a = el("a");
      a.href = URL.createObjectURL(blob);
      a.download = "kefu-" + name + "-" + $("from").value + ".csv";
      document.body.appendChild(a);
      a.click();
      setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
    }).catch(function (e) { notice(e.message); });
  }
  function card(f) {
    var c = el("section", "card");
    c.id = "report-" + f.name;
    var h = el("h2", "", f.title);
    var csv = el("button", "csv", "导出 CSV");
    csv.type = "button";
    csv.addEventListener("click", function () { download(f.name); });
    h.appendChild(csv);
    c.appendChild(h);
    c.appendChild(summary(f));
    var holder = el("div", "chart"), canvas = el("canvas");
    canvas.setAttribute("aria-label", f.title);
    holder.appendChild(canvas);
    c.appendChild(holder);
    c.appendChild(el("p", "definition", f.definition));
    c.appendChild(table(f));
    $("cards").appendChild(c);
    var config = CHARTS[f.name](f);
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options || {});
    charts.push(new window.Chart(canvas, config));
  }

  function load() {
    notice("");
    call("/api/reports?" + params()).then(function (r) { return r.json(); }).then(function (body) {
      charts.forEach(function (c) { c.destroy(); });
      charts = [];
      $("from").value = body.query.first_day;
      $("to").value = body.query.last_day;
      $("cards").textContent = "";
      body.figures.forEach(card);
      document.body.setAttribute("data-loaded", String(body.figures.length));
    }).catch(function (e) { notice(e.message); });
  }

  var q = new URLSearchParams(location.search);
  $("from").value = q.get("from") || "";
  $("to").value = q.get("to") || "";
  $("channel").value = q.get("channel") || "";
  $("filters").addEventListener("submit", function (ev) { ev.preventDefault(); load(); });
  if (!token) notice("请先在坐席工作台以主管身份登录。"); else load();
})();
