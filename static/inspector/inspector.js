// MMOS inspector: the few things htmx attributes cannot say. No eval, no inline handlers.
(function () {
  "use strict";

  // A websocket frame may ask for a full reload (the client fell too far behind to replay).
  document.addEventListener("htmx:wsAfterMessage", function () {
    var notice = document.getElementById("ws-notice");
    if (notice && notice.dataset.reload === "1") {
      window.location.reload();
    }
  });

  // Show the socket's state, so a person knows whether the page is live.
  function setLive(state) {
    document.documentElement.dataset.live = state;
  }
  document.addEventListener("htmx:wsOpen", function () { setLive("open"); });
  document.addEventListener("htmx:wsClose", function () { setLive("closed"); });
  document.addEventListener("htmx:wsError", function () { setLive("closed"); });
})();
