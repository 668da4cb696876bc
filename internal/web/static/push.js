// CareCircle push: turns Web Push on or off for this device from the
// settings page. The subscription is sent to the API; the service worker
// shows what arrives.
(function () {
  'use strict';
  var box = document.getElementById('push-settings');
  if (!box) { return; }
  var enable = box.querySelector('[data-push-enable]');
  var disable = box.querySelector('[data-push-disable]');
  var status = box.querySelector('[data-push-status]');
  function say(text) { status.textContent = text; }
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    say('This browser can\'t receive push notifications.');
    return;
  }

  // call sends a JSON request to the API, renewing an expired session once.
  function call(method, path, body) {
    function send() {
      return fetch(path, {
        method: method, credentials: 'same-origin',
        headers: body ? { 'Content-Type': 'application/json' } : {},
        body: body ? JSON.stringify(body) : undefined
      });
    }
    return send().then(function (r) {
      if (r.status !== 401) { return r; }
      return fetch('/session', { credentials: 'same-origin', cache: 'no-store' }).then(send);
    }).then(function (r) {
      if (!r.ok) { throw new Error(method + ' ' + path + ': ' + r.status); }
      return r.status === 204 ? null : r.json();
    });
  }
  function keyBytes(b64url) {
    var s = atob(b64url.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((b64url.length + 3) % 4));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) { out[i] = s.charCodeAt(i); }
    return out;
  }
  function show(on) {
    enable.hidden = on;
    disable.hidden = !on;
    say(on ? 'Push notifications are on for this device.' :
      Notification.permission === 'denied' ? 'Notifications are blocked for this site in the browser settings.' :
        'Push notifications are off for this device.');
  }
  var ready = navigator.serviceWorker.ready;
  ready.then(function (reg) { return reg.pushManager.getSubscription(); })
    .then(function (sub) { show(!!sub); })
    .catch(function () { say('Push notifications are not available here.'); });

  enable.addEventListener('click', function () {
    enable.disabled = true;
    Notification.requestPermission().then(function (perm) {
      if (perm !== 'granted') { throw new Error('permission ' + perm); }
      return Promise.all([ready, call('GET', '/api/v1/notifications/vapid-public-key')]);
    }).then(function (r) {
      return r[0].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(r[1].publicKey) });
    }).then(function (sub) {
      var j = sub.toJSON();
      return call('POST', '/api/v1/notifications/subscribe', { endpoint: j.endpoint, keys: { p256dh: j.keys.p256dh, auth: j.keys.auth } });
    }).then(function () { show(true); })
      .catch(function () { show(false); })
      .then(function () { enable.disabled = false; });
  });

  disable.addEventListener('click', function () {
    disable.disabled = true;
    ready.then(function (reg) { return reg.pushManager.getSubscription(); }).then(function (sub) {
      if (!sub) { return null; }
      var endpoint = sub.endpoint;
      return sub.unsubscribe().then(function () {
        return call('DELETE', '/api/v1/notifications/subscribe', { endpoint: endpoint });
      });
    }).then(function () { show(false); })
      .catch(function () { say('Could not turn push notifications off; please try again.'); })
      .then(function () { disable.disabled = false; });
  });
}());
