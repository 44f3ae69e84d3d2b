// Small listeners that htmx cannot express without inline script (the CSP forbids it).
(function () {
  "use strict";

  function showToast(message, level) {
    var region = document.getElementById("toasts");
    if (!region || !message) return;
    var p = document.createElement("p");
    p.className = "toast toast-" + (level || "info");
    p.textContent = message;
    region.appendChild(p);
    setTimeout(function () { p.remove(); }, 8000);
  }

  // Server-sent toasts: HX-Trigger {"toast": {"message": "...", "level": "..."}}
  document.addEventListener("toast", function (e) {
    showToast(e.detail && e.detail.message, e.detail && e.detail.level);
  });

  // A refreshed CSRF token after an expired one: the user only has to click again.
  document.addEventListener("csrf-token", function (e) {
    var token = e.detail && (e.detail.value || e.detail);
    if (typeof token !== "string") return;
    var headers = JSON.stringify({"X-CSRFToken": token});
    document.body.setAttribute("hx-headers", headers);
    document.body.setAttribute("hx-headers:inherited", headers);
    document.querySelectorAll("input[name=csrf_token]").forEach(function (input) { input.value = token; });
  });

  document.addEventListener("htmx:sendError", function () {
    showToast("Connexion au serveur impossible. Vos données sont conservées : réessayez.", "error");
  });
  document.addEventListener("htmx:timeout", function () {
    showToast("Le serveur met trop de temps à répondre. Réessayez.", "error");
  });

  // Upload progress: a <progress data-upload-progress> inside the form being sent.
  document.addEventListener("htmx:xhr:progress", function (e) {
    var form = e.target.closest ? e.target.closest("form") : null;
    var bar = form && form.querySelector("progress[data-upload-progress]");
    if (!bar || !e.detail.lengthComputable) return;
    bar.hidden = false;
    bar.max = e.detail.total;
    bar.value = e.detail.loaded;
  });

  // <dialog data-open> swapped in by the server opens as a modal; [data-close-dialog] closes it.
  function openDialogs(root) {
    (root.querySelectorAll ? root : document).querySelectorAll("dialog[data-open]").forEach(function (d) {
      if (!d.open && d.showModal) d.showModal();
    });
  }
  document.addEventListener("htmx:load", function (e) { openDialogs(e.target.parentNode || document); });
  document.addEventListener("DOMContentLoaded", function () { openDialogs(document); });
  document.addEventListener("click", function (e) {
    var closer = e.target.closest && e.target.closest("[data-close-dialog]");
    if (!closer) return;
    var dialog = closer.closest("dialog");
    if (dialog) { e.preventDefault(); dialog.close(); dialog.remove(); }
  });

  // <button data-confirm="..."> asks before sending (htmx's hx-confirm is not inherited in 4.x).
  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("[data-confirm]");
    if (button && !window.confirm(button.getAttribute("data-confirm"))) {
      e.preventDefault();
      e.stopImmediatePropagation();
    }
  }, true);
})();
