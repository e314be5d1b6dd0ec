/* Agents' tools in the console: canned replies ("/" in the composer), private notes, labels and the
   label filter, history search, transcript export, availability and (supervisors) capacities and
   canned-response management. Follows console.js through its kefu:* events; every text is
   rendered with textContent, never as HTML. */
(function () {
  "use strict";
  var TOKEN_KEY = "kefu.console.token";
  var STATUS = { online: "在线", busy: "忙碌", away: "离开", offline: "离线" };
  var t = { me: null, conv: null, filter: "", filterIds: null, suggest: [], active: 0, built: false };

  var shared = window.kefuConsole;  // console.js's helpers: el, clear, time, errorText
  var el = shared.el, clear = shared.clear, time = shared.time, errorText = shared.errorText;
  function $(id) { return document.getElementById(id); }
  function button(cls, text, onClick) {
    var b = el("button", cls, text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }
  function input(id, placeholder, max) {
    var i = el("input");
    i.id = id; i.placeholder = placeholder; i.maxLength = max || 64;
    return i;
  }
  function supervises() { return t.me && (t.me.role === "supervisor" || t.me.role === "admin"); }
  function api(method, path, body) {
    var opts = { method: method, headers: { "Authorization": "Bearer " + sessionStorage.getItem(TOKEN_KEY) } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      return r.text().then(function (txt) {
        var data = null;
        try { data = txt ? JSON.parse(txt) : null; } catch (e) { data = txt; }
        return { ok: r.ok, status: r.status, data: data, text: txt };
      });
    });
  }
  function convPath(suffix) { return "/api/agent/conversations/" + encodeURIComponent(t.conv.conversation_id) + suffix; }

  // ------------------------------------------------------------------ building the panels
  function build() {
    if (t.built) return;
    t.built = true;
    var top = document.querySelector(".topbar");
    var status = el("select", "status-select");
    status.id = "my-status";
    status.setAttribute("aria-label", "我的状态");
    ["online", "busy", "away"].forEach(function (k) { var o = el("option", "", STATUS[k]); o.value = k; status.appendChild(o); });
    status.addEventListener("change", function () {
      api("PUT", "/api/agent/availability/me", { status: status.value }).then(loadAvailability);
    });
    top.insertBefore(status, $("live"));
    top.insertBefore(button("link", "查找会话", function () { $("search-panel").hidden = false; $("search-text").focus(); }), $("logout"));

    var lists = document.querySelector(".lists");
    var filterBox = el("div", "label-filter");
    var filter = el("select");
    filter.id = "label-filter";
    filter.setAttribute("aria-label", "按标签筛选");
    filter.addEventListener("change", function () { setFilter(filter.value); });
    filterBox.appendChild(el("span", "sub", "标签筛选"));
    filterBox.appendChild(filter);
    lists.insertBefore(filterBox, lists.firstChild);
    var avail = el("ul", "availability");
    avail.id = "availability";
    var head = el("h2", "", "坐席状态与接待上限");
    lists.insertBefore(avail, $("supervisor-panel"));
    lists.insertBefore(head, avail);

    // The conversation: labels under the head, notes and export under the composer.
    var labelBar = el("div", "conv-labels-bar");
    var chips = el("span", "chips");
    chips.id = "conv-labels";
    var labelInput = input("label-input", "添加标签", 20);
    labelBar.appendChild(el("span", "sub", "标签："));
    labelBar.appendChild(chips);
    labelBar.appendChild(labelInput);
    labelBar.appendChild(button("small", "添加", addLabel));
    labelInput.addEventListener("keydown", function (ev) { if (ev.key === "Enter") { ev.preventDefault(); addLabel(); } });
    var chatHead = document.querySelector(".chat-head");
    chatHead.parentNode.insertBefore(labelBar, chatHead.nextSibling);

    var suggest = el("ul", "canned-suggest");
    suggest.id = "canned-suggest";
    suggest.hidden = true;
    $("reply").insertBefore(suggest, $("reply").firstChild);

    var notes = el("section", "notes-box");
    notes.appendChild(el("h3", "", "内部备注（仅坐席可见，不会发送给客户）"));
    var noteList = el("ul", "notes");
    noteList.id = "notes";
    notes.appendChild(noteList);
    var form = el("form", "note-form");
    form.id = "note-form";
    var noteText = el("textarea");
    noteText.id = "note-text"; noteText.rows = 1; noteText.maxLength = 2000; noteText.placeholder = "写一条内部备注";
    form.appendChild(noteText);
    var add = el("button", "note-add", "添加备注");
    add.type = "submit"; add.id = "note-add";
    form.appendChild(add);
    form.addEventListener("submit", addNote);
    notes.appendChild(form);
    var exports = el("div", "exports");
    exports.appendChild(button("small", "导出记录", function () { download(false); }));
    exports.appendChild(button("small", "导出记录（含备注）", function () { download(true); }));
    notes.appendChild(exports);
    $("chat").insertBefore(notes, $("chat-error"));

    buildSearch();
    if (supervises()) buildCannedAdmin();
  }

  // ------------------------------------------------------------------ canned replies in the composer
  function hideSuggest() { $("canned-suggest").hidden = true; t.suggest = []; }
  function showSuggest(items) {
    var box = $("canned-suggest");
    clear(box);
    t.suggest = items; t.active = 0;
    if (!items.length) { box.hidden = true; return; }
    items.forEach(function (c, i) {
      var li = el("li", "canned-item" + (i === 0 ? " active" : ""));
      li.appendChild(el("strong", "", c.shortcut));
      li.appendChild(el("span", "sub", " " + c.title));
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); useCanned(c); });
      box.appendChild(li);
    });
    box.hidden = false;
  }
  function useCanned(c) {
    hideSuggest();
    if (!t.conv) return;
    api("GET", convPath("/canned/" + c.id)).then(function (res) {
      if (!res.ok) { $("chat-error").textContent = errorText(res.data, "无法使用快捷回复"); return; }
      var box = $("reply-text");
      box.value = res.data.text;
      box.focus();
      $("chat-error").textContent = res.data.missing.length ? "提示：本会话暂无 " + res.data.missing.join("、") + " 信息，已填入占位文字" : "";
    });
  }
  document.addEventListener("input", function (ev) {
    if (ev.target.id !== "reply-text") return;
    var v = ev.target.value;
    if (v.charAt(0) !== "/" || /\s/.test(v)) { hideSuggest(); return; }
    api("GET", "/api/agent/canned?q=" + encodeURIComponent(v)).then(function (res) {
      if (res.ok && $("reply-text").value === v) showSuggest(res.data.items.slice(0, 8));
    });
  });
  // Capture phase: runs before console.js's Enter-to-send on the textarea.
  document.addEventListener("keydown", function (ev) {
    if (ev.target.id !== "reply-text" || $("canned-suggest").hidden || !t.suggest.length) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      t.active = (t.active + (ev.key === "ArrowDown" ? 1 : t.suggest.length - 1)) % t.suggest.length;
      Array.prototype.forEach.call($("canned-suggest").children, function (n, i) { n.classList.toggle("active", i === t.active); });
    } else if ((ev.key === "Enter" || ev.key === "Tab") && !ev.isComposing) {
      ev.preventDefault(); ev.stopImmediatePropagation();
      useCanned(t.suggest[t.active]);
    } else if (ev.key === "Escape") { hideSuggest(); }
  }, true);

  // ------------------------------------------------------------------ private notes
  function loadNotes() {
    if (!t.conv) return;
    var id = t.conv.conversation_id;
    api("GET", convPath("/notes")).then(function (res) {
      if (!t.conv || t.conv.conversation_id !== id) return;
      var list = $("notes");
      clear(list);
      if (!res.ok) { list.appendChild(el("li", "sub", errorText(res.data, "无法读取备注"))); return; }
      res.data.items.forEach(function (n) {
        var li = el("li", "note");
        li.appendChild(el("span", "who", n.author + " " + time(n.created_at)));
        li.appendChild(el("span", "text", n.text));
        list.appendChild(li);
      });
      if (!res.data.items.length) list.appendChild(el("li", "sub", "暂无备注"));
    });
  }
  function addNote(ev) {
    ev.preventDefault();
    var text = $("note-text").value.trim();
    if (!text || !t.conv) return;
    api("POST", convPath("/notes"), { text: text }).then(function (res) {
      if (!res.ok) { $("chat-error").textContent = errorText(res.data, "备注保存失败"); return; }
      $("note-text").value = "";
      loadNotes();
    });
  }

  // ------------------------------------------------------------------ labels and the filter
  function renderChips(box, labels, removable) {
    clear(box);
    labels.forEach(function (l) {
      var chip = el("span", "label-chip", l);
      if (removable) chip.appendChild(button("chip-x", "×", function () {
        api("DELETE", convPath("/labels/" + encodeURIComponent(l))).then(function (res) { if (res.ok) renderChips(box, res.data.labels, true); loadLabels(); });
      }));
      box.appendChild(chip);
    });
  }
  function loadConvLabels() {
    if (!t.conv) return;
    var id = t.conv.conversation_id;
    api("GET", "/api/agent/labels/of?kind=conversation&ids=" + encodeURIComponent(id)).then(function (res) {
      if (res.ok && t.conv && t.conv.conversation_id === id) renderChips($("conv-labels"), res.data.labels[id] || [], true);
    });
  }
  function addLabel() {
    var label = $("label-input").value.trim();
    if (!label || !t.conv) return;
    api("POST", convPath("/labels"), { label: label }).then(function (res) {
      if (!res.ok) { $("chat-error").textContent = errorText(res.data, "标签添加失败"); return; }
      $("label-input").value = "";
      renderChips($("conv-labels"), res.data.labels, true);
      loadLabels();
    });
  }
  function loadLabels() {
    api("GET", "/api/agent/labels").then(function (res) {
      if (!res.ok) return;
      var filter = $("label-filter");
      clear(filter);
      var all = el("option", "", "全部会话");
      all.value = "";
      filter.appendChild(all);
      res.data.items.forEach(function (l) {
        var o = el("option", "", l.label + "（" + l.conversations + "）");
        o.value = l.label;
        filter.appendChild(o);
      });
      filter.value = t.filter;
      if (filter.value !== t.filter) setFilter("");
    });
  }
  function setFilter(label) {
    t.filter = label;
    if (!label) { t.filterIds = null; applyFilter(); return; }
    api("GET", "/api/agent/labels/" + encodeURIComponent(label) + "/conversations").then(function (res) {
      if (!res.ok || t.filter !== label) return;
      t.filterIds = {};
      res.data.ids.forEach(function (id) { t.filterIds[id] = true; });
      applyFilter();
    });
  }
  function applyFilter() {
    Array.prototype.forEach.call(document.querySelectorAll(".lists li.conv"), function (li) {
      li.hidden = !!t.filterIds && !t.filterIds[li.dataset.id];
    });
  }
  function decorateList(listId) {
    var list = $(listId);
    if (!list) return;
    var items = list.querySelectorAll("li.conv");
    var ids = Array.prototype.map.call(items, function (li) { return li.dataset.id; });
    applyFilter();
    if (!ids.length) return;
    api("GET", "/api/agent/labels/of?kind=conversation&ids=" + encodeURIComponent(ids.join(","))).then(function (res) {
      if (!res.ok) return;
      Array.prototype.forEach.call(items, function (li) {
        var old = li.querySelector(".chips");
        if (old) li.removeChild(old);
        var labels = res.data.labels[li.dataset.id];
        if (!labels) return;
        var box = el("div", "chips");
        renderChips(box, labels, false);
        li.appendChild(box);
      });
    });
  }

  // ------------------------------------------------------------------ availability and capacities
  function loadAvailability() {
    api("GET", "/api/agent/availability").then(function (res) {
      if (!res.ok) return;
      var list = $("availability");
      // A capacity the supervisor is typing survives the live refresh (agents come and go meanwhile).
      var typing = {};
      Array.prototype.forEach.call(list.querySelectorAll("input.capacity"), function (i) {
        if (i.value !== i.dataset.saved) typing[i.closest("li").dataset.user] = i.value;
      });
      var focused = document.activeElement && document.activeElement.classList.contains("capacity") ?
        document.activeElement.closest("li").dataset.user : null;
      clear(list);
      res.data.items.forEach(function (a) {
        var li = el("li", "avail status-" + a.status);
        li.dataset.user = a.username;
        li.appendChild(el("span", "dot " + a.status));
        li.appendChild(el("span", "name", a.display_name));
        li.appendChild(el("span", "state", STATUS[a.status] || a.status));
        li.appendChild(el("span", "load", "接待 " + a.holding + "/" + a.capacity));
        var cap = null;
        if (supervises()) {
          cap = el("input", "capacity");
          cap.type = "number"; cap.min = 0; cap.max = 50; cap.value = a.capacity;
          cap.dataset.saved = String(a.capacity);
          if (typing[a.username] !== undefined) cap.value = typing[a.username];
          cap.setAttribute("aria-label", a.display_name + " 接待上限");
          li.appendChild(cap);
          li.appendChild(button("small", "设置", function () {
            api("PUT", "/api/agent/availability/" + encodeURIComponent(a.username) + "/capacity", { capacity: Number(cap.value) })
              .then(function (r) { if (!r.ok) window.alert(errorText(r.data, "设置失败")); loadAvailability(); });
          }));
        }
        if (t.me && a.username === t.me.username && a.status !== "offline") $("my-status").value = a.status;
        list.appendChild(li);
        if (focused === a.username && cap) cap.focus();
      });
    });
  }

  // ------------------------------------------------------------------ search and export
  function buildSearch() {
    var panel = el("div", "search-panel");
    panel.id = "search-panel";
    panel.hidden = true;
    var form = el("form", "search-form");
    form.id = "search-form";
    form.appendChild(el("h2", "", "查找历史会话"));
    form.appendChild(input("search-text", "消息文字", 100));
    var phone = input("search-phone", supervises() ? "手机号（主管可用）" : "手机号（仅主管可按号码查找）", 20);
    phone.disabled = !supervises();
    form.appendChild(phone);
    form.appendChild(input("search-ticket", "工单号", 32));
    form.appendChild(input("search-label", "标签", 20));
    var from = input("search-from", "开始日期"), to = input("search-to", "结束日期");
    from.type = "date"; to.type = "date";
    form.appendChild(from); form.appendChild(to);
    var go = el("button", "", "查找");
    go.type = "submit"; go.id = "search-go";
    form.appendChild(go);
    form.appendChild(button("link-dark", "关闭", function () { panel.hidden = true; }));
    form.addEventListener("submit", runSearch);
    panel.appendChild(form);
    panel.appendChild(el("p", "error", "")).id = "search-error";
    var results = el("ul", "search-results");
    results.id = "search-results";
    panel.appendChild(results);
    var view = el("pre", "transcript-view");
    view.id = "transcript-view";
    view.hidden = true;
    panel.appendChild(view);
    document.body.appendChild(panel);
  }
  function runSearch(ev) {
    ev.preventDefault();
    var q = [["text", "search-text"], ["phone", "search-phone"], ["ticket", "search-ticket"], ["label", "search-label"],
             ["date_from", "search-from"], ["date_to", "search-to"]]
      .filter(function (p) { return $(p[1]).value.trim(); })
      .map(function (p) { return p[0] + "=" + encodeURIComponent($(p[1]).value.trim()); }).join("&");
    $("search-error").textContent = "";
    api("GET", "/api/agent/search?" + q).then(function (res) {
      var list = $("search-results");
      clear(list);
      if (!res.ok) { $("search-error").textContent = errorText(res.data, "查找失败"); return; }
      if (!res.data.items.length) list.appendChild(el("li", "sub", "没有找到会话"));
      res.data.items.forEach(function (h) {
        var li = el("li", "search-hit");
        li.dataset.id = h.conversation_id;
        li.appendChild(el("div", "", "会话 " + h.conversation_id.slice(0, 8) + " · " + time(h.last_activity_at) +
          (h.tickets.length ? " · 工单 " + h.tickets.join("、") : "")));
        li.appendChild(el("div", "preview", h.snippet || "（无文字）"));
        var chips = el("div", "chips");
        renderChips(chips, h.labels, false);
        li.appendChild(chips);
        li.appendChild(button("small", "查看记录", function () { showTranscript(h.conversation_id); }));
        li.appendChild(button("small", "导出", function () { download(false, h.conversation_id); }));
        list.appendChild(li);
      });
    });
  }
  function transcriptUrl(id, notes) {
    return "/api/agent/conversations/" + encodeURIComponent(id) + "/transcript?format=txt" + (notes ? "&notes=true" : "");
  }
  function showTranscript(id) {
    api("GET", transcriptUrl(id, true)).then(function (res) {
      var view = $("transcript-view");
      view.textContent = res.ok ? res.text : errorText(res.data, "无法读取记录");
      view.hidden = false;
    });
  }
  function download(notes, id) {
    var cid = id || (t.conv && t.conv.conversation_id);
    if (!cid) return;
    api("GET", transcriptUrl(cid, notes)).then(function (res) {
      if (!res.ok) { $("chat-error").textContent = errorText(res.data, "导出失败"); return; }
      var link = el("a");
      link.href = URL.createObjectURL(new Blob([res.text], { type: "text/plain;charset=utf-8" }));
      link.download = "transcript-" + cid.slice(0, 12) + ".txt";
      document.body.appendChild(link);
      link.click();
      document.body.removeChild(link);
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    });
  }

  // ------------------------------------------------------------------ supervisors: canned responses
  function buildCannedAdmin() {
    var panel = $("supervisor-panel");
    panel.appendChild(el("h2", "", "快捷回复管理"));
    var list = el("ul", "canned-admin");
    list.id = "canned-admin";
    panel.appendChild(list);
    var form = el("form", "canned-form");
    form.id = "canned-form";
    form.appendChild(input("canned-shortcut", "快捷指令，如 /退费", 32));
    form.appendChild(input("canned-title", "标题", 64));
    var body = el("textarea");
    body.id = "canned-body"; body.rows = 3; body.maxLength = 2000;
    body.placeholder = "回复内容，可用变量 {phone} 客户手机号（脱敏）、{ticket} 工单号、{agent} 坐席姓名";
    form.appendChild(body);
    var save = el("button", "", "保存快捷回复");
    save.type = "submit"; save.id = "canned-save";
    form.appendChild(save);
    form.appendChild(el("p", "sub", "")).id = "canned-result";
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      api("POST", "/api/agent/canned", { shortcut: $("canned-shortcut").value, title: $("canned-title").value, body: body.value })
        .then(function (res) {
          $("canned-result").textContent = res.ok ? "已保存 " + res.data.shortcut : errorText(res.data, "保存失败");
          if (res.ok) { $("canned-shortcut").value = ""; $("canned-title").value = ""; body.value = ""; }
          loadCannedAdmin();
        });
    });
    panel.appendChild(form);
    loadCannedAdmin();
  }
  function loadCannedAdmin() {
    api("GET", "/api/agent/canned").then(function (res) {
      if (!res.ok) return;
      var list = $("canned-admin");
      clear(list);
      res.data.items.forEach(function (c) {
        var li = el("li", "canned-row");
        li.appendChild(el("strong", "", c.shortcut + " "));
        li.appendChild(el("span", "", c.title));
        li.appendChild(button("small", "删除", function () {
          api("DELETE", "/api/agent/canned/" + c.id).then(loadCannedAdmin);
        }));
        list.appendChild(li);
      });
      if (!res.data.items.length) list.appendChild(el("li", "sub", "暂无快捷回复"));
    });
  }

  // ------------------------------------------------------------------ following the console
  document.addEventListener("kefu:start", function (ev) {
    t.me = ev.detail;
    build();
    loadLabels();
    loadAvailability();
  });
  document.addEventListener("kefu:list", function (ev) { decorateList(ev.detail); });
  document.addEventListener("kefu:conversation", function (ev) {
    var changed = !t.conv || t.conv.conversation_id !== ev.detail.info.conversation_id;
    t.conv = ev.detail.info;
    if (changed || !ev.detail.keep) { hideSuggest(); loadNotes(); loadConvLabels(); }
  });
  document.addEventListener("kefu:event", function (ev) {
    var data = ev.detail;
    if (data.type === "agents" || data.type === "queue") setTimeout(loadAvailability, 200);
    if (data.type === "note" && t.conv && data.conversation_id === t.conv.conversation_id) loadNotes();
    if (data.type === "labels") {
      loadLabels();
      ["queue", "mine", "all"].forEach(decorateList);  // the chips on the lists follow the change
      if (t.filter) setFilter(t.filter);
      if (t.conv && data.id === t.conv.conversation_id) loadConvLabels();
    }
  });
})();
