// CareCircle service worker. It keeps the app shell (styles, scripts, the
// offline page) and, for each of the signed-in user's care recipients, the
// emergency page, so that page opens with no network at all. Other pages
// come from the network; without one, the offline page says so. It also
// shows push notifications and opens the right page when one is tapped.
'use strict';
var VERSION = "__VERSION__";
var SHELL = ["__SHELL__"];
var SHELL_CACHE = 'cc-shell-' + VERSION;
var PAGE_CACHE = 'cc-pages';
var OFFLINE = '/offline';

self.addEventListener('install', function (e) {
  e.waitUntil(caches.open(SHELL_CACHE)
    .then(function (c) { return c.addAll(SHELL.concat([OFFLINE])); })
    .then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (e) {
  e.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf('cc-shell-') === 0 && k !== SHELL_CACHE;
    }).map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

// isOfflinePage reports whether a path is one kept for offline use.
function isOfflinePage(path) {
  return /^\/care\/[A-Za-z0-9_]+\/emergency(\/card)?$/.test(path);
}

// The page tells the worker which emergency pages belong to the user; they
// are fetched now and kept, and pages of anyone else are dropped (a member
// removed from a family, another user on this device).
self.addEventListener('message', function (e) {
  var msg = e.data || {};
  if (msg.type !== 'offline-pages' || !Array.isArray(msg.urls)) { return; }
  var wanted = msg.urls.filter(isOfflinePage);
  e.waitUntil(caches.open(PAGE_CACHE).then(function (cache) {
    return cache.keys().then(function (reqs) {
      return Promise.all(reqs.filter(function (r) {
        return wanted.indexOf(new URL(r.url).pathname) < 0;
      }).map(function (r) { return cache.delete(r); }));
    }).then(function () {
      return Promise.all(wanted.map(function (u) {
        return fetch(u, { credentials: 'same-origin', cache: 'no-store' }).then(function (res) {
          if (res.ok && !res.redirected) { return cache.put(u, res); }
        }).catch(function () { /* offline now: keep the copy we have */ });
      }));
    });
  }));
});

self.addEventListener('fetch', function (e) {
  var req = e.request;
  if (req.method !== 'GET') { return; }
  var url = new URL(req.url);
  if (url.origin !== self.location.origin || url.pathname.indexOf('/api/') === 0) { return; }
  if (url.pathname.indexOf('/static/') === 0) {
    // Fingerprinted files never change: the cache is always right.
    e.respondWith(caches.match(req).then(function (hit) {
      return hit || fetch(req).then(function (res) {
        if (res.ok) {
          var copy = res.clone();
          caches.open(SHELL_CACHE).then(function (c) { return c.put(req, copy); });
        }
        return res;
      });
    }));
    return;
  }
  if (req.mode !== 'navigate') { return; }
  e.respondWith(fetch(req).then(function (res) {
    if (res.ok && !res.redirected && isOfflinePage(url.pathname)) {
      var copy = res.clone();
      caches.open(PAGE_CACHE).then(function (c) { return c.put(url.pathname, copy); });
    }
    return res;
  }).catch(function () {
    return caches.open(PAGE_CACHE).then(function (c) { return c.match(url.pathname); }).then(function (hit) {
      return hit || caches.match(OFFLINE);
    });
  }));
});

self.addEventListener('push', function (e) {
  var d = {};
  try { d = e.data ? e.data.json() : {}; } catch (err) { d = { body: e.data ? e.data.text() : '' }; }
  var title = d.title || 'CareCircle';
  var emergency = d.type && String(d.type).indexOf('emergency.') === 0;
  e.waitUntil(self.registration.showNotification(title, {
    body: d.body || '',
    tag: d.tag || d.id || undefined,
    renotify: !!emergency,
    requireInteraction: !!emergency,
    icon: d.icon || undefined,
    data: { url: d.url || '/dashboard' },
    vibrate: emergency ? [600, 250, 600, 250, 600] : undefined
  }));
});

self.addEventListener('notificationclick', function (e) {
  e.notification.close();
  var target = new URL((e.notification.data && e.notification.data.url) || '/dashboard', self.location.origin);
  if (target.origin !== self.location.origin) { target = new URL('/dashboard', self.location.origin); }
  e.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then(function (list) {
    for (var i = 0; i < list.length; i++) {
      if (new URL(list[i].url).pathname === target.pathname && 'focus' in list[i]) { return list[i].focus(); }
    }
    return self.clients.openWindow(target.href);
  }));
});
