// kefu chat widget: one <script> tag puts a chat button and panel on any allowed site.
// <script src="https://GATEWAY/static/widget.js" data-kefu-origin="https://GATEWAY" async></script>
// The panel is the gateway's own chat page in an iframe; the gateway only lets configured sites
// frame it (CSP frame-ancestors from KEFU_ALLOWED_ORIGINS).
(function () {
  "use strict";
  if (window.__kefuWidget) return;
  window.__kefuWidget = true;
  var script = document.currentScript;
  var origin = (script && script.getAttribute("data-kefu-origin")) || (script ? new URL(script.src).origin : "");
  origin = origin.replace(/\/+$/, "");
  var title = (script && script.getAttribute("data-kefu-title")) || "在线客服";

  var style = document.createElement("style");
  style.textContent =
    ".kefu-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;" +
    "padding:12px 18px;background:#1677ff;color:#fff;font:15px/1.2 system-ui,'PingFang SC','Microsoft YaHei',sans-serif;" +
    "box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}" +
    ".kefu-panel{position:fixed;right:20px;bottom:80px;z-index:2147483000;width:380px;height:600px;" +
    "max-height:calc(100vh - 100px);border:0;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);background:#fff}" +
    ".kefu-panel[hidden]{display:none}" +
    "@media (max-width:480px){.kefu-panel{right:0;bottom:0;width:100vw;height:100vh;max-height:none;border-radius:0}" +
    ".kefu-launcher.kefu-open{bottom:auto;top:8px;right:8px;padding:6px 12px}}";
  document.head.appendChild(style);

  var button = document.createElement("button");
  button.type = "button";
  button.className = "kefu-launcher";
  button.textContent = title;
  button.setAttribute("aria-expanded", "false");

  var frame = null;
  button.addEventListener("click", function () {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.className = "kefu-panel";
      frame.title = title;
      frame.src = origin + "/widget/frame";
      frame.setAttribute("allow", "clipboard-write");
      document.body.appendChild(frame);
    } else {
      frame.hidden = !frame.hidden;
    }
    var open = !frame.hidden;
    button.setAttribute("aria-expanded", String(open));
    button.textContent = open ? "收起" : title;
    button.classList.toggle("kefu-open", open);
  });

  function mount() { document.body.appendChild(button); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
})();
