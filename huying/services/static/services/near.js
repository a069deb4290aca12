// 用我的位置: the browser's geolocation fills the point and submits the form.
(function () {
  var button = document.getElementById("sv-locate");
  var form = document.getElementById("sv-point");
  if (!button || !form) return;
  if (!("geolocation" in navigator)) { button.hidden = true; return; }
  button.addEventListener("click", function () {
    var status = document.getElementById("sv-locate-status");
    status.textContent = button.dataset.waiting;
    navigator.geolocation.getCurrentPosition(function (pos) {
      form.elements.lat.value = pos.coords.latitude.toFixed(6);
      form.elements.lng.value = pos.coords.longitude.toFixed(6);
      form.submit();
    }, function () {
      status.textContent = button.dataset.failed;
    }, {enableHighAccuracy: true, timeout: 10000, maximumAge: 60000});
  });
})();
