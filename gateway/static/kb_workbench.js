/* KB workbench: documents, upload, background rebuild with progress, rollback, hit testing, gaps.
   Uses the console's sign-in (same session token). All texts are set with textContent. */
(function () {
  "use strict";
  var TOKEN_KEY = "kefu.console.token";
  var KIND = { guide: "服务指南", faq: "常见问题", seed: "原始指南", question: "典型问法", document: "补充文档" };
  var STATUS = { indexed: "已索引", "new": "待索引", changed: "已修改，待重建", removed: "已删除，待重建" };
  var s = { token: sessionStorage.getItem(TOKEN_KEY), poll: null };

  var $ = document.getElementById.bind(document);
  function el(tag, cls, text) {
    var node = Object.assign(document.createElement(tag), cls ? { className: cls } : {});
    if (text != null) node.textContent = String(text);
    return node;
  }
  function clear(node) { node.replaceChildren(); }
  function errorText(data, fallback) {
    return (data && data.error && data.error.message) ? data.error.message : fallback;
  }
  function time(value) {
    if (!value) return "";
    var d = typeof value === "number" ? new Date(value * 1000) : new Date(value);
    return isNaN(d) ? "" : d.toLocaleString("zh-CN", { hour12: false });
  }
  function score(x) { return x === null || x === undefined ? "—" : Number(x).toFixed(3); }

  // Signed in through the console (same tab, same session token); without a valid token, go there.
  function toConsole() { sessionStorage.removeItem(TOKEN_KEY); location.href = "/console"; }
  async function api(method, path, body) {
    var headers = { "Authorization": "Bearer " + s.token };
    var payload = body;
    if (body !== undefined && !(body instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    try {
      var r = await fetch(path, { method: method, headers: headers, body: payload });
      var text = await r.text();
      var data = null;
      try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
      if (r.status === 401) toConsole();
      return { status: r.status, ok: r.ok, data: data };
    } catch (e) {
      return { status: 0, ok: false, data: null };
    }
  }
  function fail(res, fallback) { $("bench-error").textContent = errorText(res.data, fallback); }

  $("logout").addEventListener("click", function () {
    api("POST", "/api/agent/logout").then(toConsole);
  });

  function start() {
    api("GET", "/api/agent/me").then(function (res) {
      if (!res.ok) return;
      if (res.data.role !== "supervisor" && res.data.role !== "admin") {
        document.body.replaceChildren(el("p", "error banner", "只有主管和管理员可以使用知识库工作台"));
        return;
      }
      $("whoami").textContent = (res.data.display_name || res.data.username) + "（" + res.data.role + "）";
      $("bench-view").hidden = false;
      loadDocuments();
      loadRebuild();
      loadGaps();
    });
  }

  // ------------------------------------------------------------------ documents
  function loadDocuments() {
    api("GET", "/api/kb/workbench/documents").then(function (res) {
      if (!res.ok) { fail(res, "无法读取文档列表"); return; }
      var body = $("docs");
      clear(body);
      $("doc-count").textContent = res.data.items.length;
      $("rebuild-hint").textContent = res.data.rebuild_needed ? "有文档尚未进入索引，请重建" : "索引与文档一致";
      res.data.items.forEach(function (d) {
        var tr = el("tr");
        tr.dataset.name = d.name;
        tr.appendChild(el("td", "", d.name));
        tr.appendChild(el("td", "", (KIND[d.kind] || d.kind) + (d.uploaded ? "（上传）" : "")));
        tr.appendChild(el("td", "status-" + d.status, STATUS[d.status] || d.status));
        tr.appendChild(el("td", "num", d.chunks));
        var cell = el("td");
        var list = el("ul", "sections");
        d.sections.slice(0, 8).forEach(function (sec) {
          list.appendChild(el("li", "", [sec.section, sec.title].filter(Boolean).join(" ") + "（" + sec.chunks + "）"));
        });
        if (d.sections.length > 8) list.appendChild(el("li", "", "…共 " + d.sections.length + " 个章节"));
        cell.appendChild(list);
        tr.appendChild(cell);
        var actions = el("td");
        if (d.uploaded && d.status !== "removed") {
          var del = el("button", "secondary", "删除");
          del.type = "button";
          del.addEventListener("click", function () {
            api("DELETE", "/api/kb/workbench/documents/" + encodeURIComponent(d.name)).then(function (r) {
              if (!r.ok) fail(r, "删除失败");
              loadDocuments();
            });
          });
          actions.appendChild(del);
        }
        tr.appendChild(actions);
        body.appendChild(tr);
      });
    });
  }
  $("upload").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var file = $("file").files[0];
    if (!file) return;
    var form = new FormData();
    form.append("file", file, file.name);
    $("upload-button").disabled = true;
    $("upload-result").textContent = "上传中…";
    api("POST", "/api/kb/workbench/documents", form).then(function (res) {
      $("upload-button").disabled = false;
      if (!res.ok) { $("upload-result").textContent = errorText(res.data, "上传失败"); return; }
      $("upload-result").textContent = "已上传 " + res.data.file + "（" + res.data.sections + " 个章节），重建索引后生效";
      $("file").value = "";
      loadDocuments();
    });
  });

  // ------------------------------------------------------------------ rebuild, rollback
  function showRebuild(st) {
    var running = st.state === "running";
    $("rebuild").disabled = running;
    $("rollback").disabled = running || !st.versions.some(function (v) { return v.previous; });
    $("progress-box").hidden = st.state === "idle";
    var pct = Math.round((st.progress || 0) * 100);
    $("progress").value = pct;
    $("progress-text").textContent = pct + "%" + (running && st.phase_label ? " · " + st.phase_label : "");
    var text = "";
    if (running) text = "正在重建（" + st.requested_by + " 于 " + time(st.started_at) + " 发起），当前索引照常服务";
    else if (st.state === "done") text = "重建完成：" + st.chunks + " 个切片，新版本 " + st.version + " 已上线";
    else if (st.state === "failed") text = "重建失败，线上索引未变：" + st.error;
    $("rebuild-state").textContent = text;
    var list = $("versions");
    clear(list);
    st.versions.forEach(function (v) {
      list.appendChild(el("li", v.live ? "live" : "", v.name + (v.live ? "（线上）" : v.previous ? "（上一版，可回滚）" : "")));
    });
  }
  // after: run once the status is shown (a message that must not be overwritten by it).
  function loadRebuild(after) {
    clearTimeout(s.poll);
    api("GET", "/api/kb/workbench/rebuild").then(function (res) {
      if (!res.ok) return;
      showRebuild(res.data);
      if (after) after();
      if (res.data.state === "running") s.poll = setTimeout(loadRebuild, 700);
      else if (s.wasRunning) loadDocuments();
      s.wasRunning = res.data.state === "running";
    });
  }
  $("rebuild").addEventListener("click", function () {
    $("rebuild").disabled = true;
    $("rebuild-state").textContent = "正在开始重建…";  // the last rebuild's result is not this one's
    api("POST", "/api/kb/workbench/rebuild").then(function (res) {
      if (!res.ok) fail(res, "无法开始重建");
      s.wasRunning = true;
      loadRebuild();
    });
  });
  $("rollback").addEventListener("click", function () {
    if (!window.confirm("确定回滚到上一版索引吗？")) return;
    api("POST", "/api/kb/workbench/rollback").then(function (res) {
      if (!res.ok) { fail(res, "回滚失败"); loadRebuild(); }
      else loadRebuild(function () { $("rebuild-state").textContent = "已回滚，线上版本：" + res.data.live; });
      loadDocuments();
    });
  });

  // ------------------------------------------------------------------ hit test
  $("hit-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    $("hit-button").disabled = true;
    api("POST", "/api/kb/workbench/hit-test", { query: $("query").value, k: 8 }).then(function (res) {
      $("hit-button").disabled = false;
      if (!res.ok) { fail(res, "命中测试失败"); return; }
      var g = res.data.gate;
      var gate = $("gate");
      gate.hidden = false;
      gate.className = "gate " + (g.would_answer ? "yes" : "no");
      gate.textContent = (g.would_answer ? "会回答" : "不会回答（客户将看到「没有可靠答案」）") +
        " · 典型问法相似度 " + score(g.question_cosine) + "（阈值 " + g.question_threshold + "）" +
        " · 段落相似度 " + score(g.passage_cosine) + "（阈值 " + g.strong_threshold + "）" +
        (g.names_other_organisation && g.names_other_organisation.length
          ? " · 提到其他机构：" + g.names_other_organisation.join("、") + "（阈值 " + g.foreign_threshold + "）"
          : "");
      $("answer").hidden = !res.data.answer;
      $("answer").textContent = res.data.answer ? "客户看到的回答：" + res.data.answer : "";
      var body = $("hits");
      clear(body);
      res.data.passages.forEach(function (p) {
        var tr = el("tr");
        tr.appendChild(el("td", "num", p.rank));
        tr.appendChild(el("td", "", [p.section, p.title].filter(Boolean).join(" ")));
        tr.appendChild(el("td", "", p.source));
        tr.appendChild(el("td", "passage", p.text));
        tr.appendChild(el("td", "num", score(p.dense)));
        tr.appendChild(el("td", "num", score(p.bm25)));
        tr.appendChild(el("td", "num", score(p.fused)));
        body.appendChild(tr);
      });
      $("hits-table").hidden = false;
    });
  });

  // ------------------------------------------------------------------ gaps
  function loadGaps() {
    api("GET", "/api/kb/workbench/gaps?days=30").then(function (res) {
      if (!res.ok) return;
      var body = $("gaps");
      clear(body);
      if (!res.data.items.length) {
        var tr = el("tr");
        var td = el("td", "sub", "近期没有未答或「没解决」的问题");
        td.colSpan = 5;
        tr.appendChild(td);
        body.appendChild(tr);
      }
      res.data.items.forEach(function (g) {
        var tr = el("tr");
        tr.appendChild(el("td", "", g.question));
        tr.appendChild(el("td", "num", g.no_answer));
        tr.appendChild(el("td", "num", g.not_solved));
        tr.appendChild(el("td", "", g.sections.join("、")));
        tr.appendChild(el("td", "", time(g.last_at)));
        body.appendChild(tr);
      });
    });
  }
  $("gaps-refresh").addEventListener("click", loadGaps);

  if (s.token) start(); else toConsole();
})();
