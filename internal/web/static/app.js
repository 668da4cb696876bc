// CareCircle page script: live updates over the WebSocket (with reconnect
// and backoff), forms that refresh in place, and the service worker. The
// pages work without it; it only makes them live. No dependencies.
(function () {
  'use strict';
  var body = document.body;
  var user = body.getAttribute('data-user');

  // A new account takes the browser's time zone unless one was typed.
  var tz = document.querySelector('form[action="/register"] input[name=timezone]');
  if (tz && !tz.value && window.Intl) {
    try { tz.value = Intl.DateTimeFormat().resolvedOptions().timeZone || ''; } catch (e) { /* keep empty: UTC */ }
  }

  // The header menus are <details>: they work without a script; with one,
  // Escape and a click elsewhere close them.
  document.addEventListener('click', function (e) {
    var open = document.querySelectorAll('details.menu[open], details.switcher[open]');
    for (var i = 0; i < open.length; i++) { if (!open[i].contains(e.target)) { open[i].removeAttribute('open'); } }
  });
  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape') { return; }
    var d = document.activeElement && document.activeElement.closest && document.activeElement.closest('details[open]');
    if (d) { d.removeAttribute('open'); var s = d.querySelector('summary'); if (s) { s.focus(); } }
  });

  registerWorker();
  if (!user) { return; }

  // ---- Partial refresh: fetch this page again and swap the regions marked
  // data-live whose HTML changed, leaving alone a region the user is typing in.
  var refreshTimer = 0, refreshing = false, again = false;
  function refreshSoon(delay) {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(refresh, delay === undefined ? 120 : delay);
  }
  function refresh() {
    if (refreshing) { again = true; return; }
    refreshing = true;
    fetch(location.href, { credentials: 'same-origin', cache: 'no-store', headers: { 'X-Live': '1' } })
      .then(function (r) {
        if (r.redirected && new URL(r.url).pathname === '/login') { location.reload(); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) { if (html) { swapRegions(html); } })
      .catch(function () { /* offline: the next event or reconnect retries */ })
      .then(function () {
        refreshing = false;
        if (again) { again = false; refreshSoon(); }
      });
  }
  function swapRegions(html) {
    var doc = new DOMParser().parseFromString(html, 'text/html');
    var fresh = doc.querySelectorAll('[data-live]');
    for (var i = 0; i < fresh.length; i++) {
      var key = fresh[i].getAttribute('data-live');
      var cur = document.querySelector('[data-live="' + key + '"]');
      if (!cur || cur.innerHTML === fresh[i].innerHTML) { continue; }
      var active = document.activeElement;
      if (active && cur.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) { continue; }
      var focusKey = active && cur.contains(active) ? focusPath(active) : null;
      cur.replaceWith(document.importNode(fresh[i], true));
      if (focusKey) { restoreFocus(focusKey); }
    }
    document.dispatchEvent(new CustomEvent('cc:refreshed'));
  }
  // Focus survives a swap by the id or the form action of the element.
  function focusPath(el) {
    if (el.id) { return '#' + el.id; }
    var f = el.form || (el.closest && el.closest('form'));
    return f ? 'form[action="' + f.getAttribute('action') + '"] button' : null;
  }
  function restoreFocus(sel) {
    try { var el = document.querySelector(sel); if (el) { el.focus(); } } catch (e) { /* selector from our own markup */ }
  }

  // Forms marked data-live-form post in the background and refresh the
  // page's regions from the answer; the flash message is shown too.
  document.addEventListener('submit', function (ev) {
    var form = ev.target;
    if (!form.hasAttribute || !form.hasAttribute('data-live-form') || ev.defaultPrevented) { return; }
    ev.preventDefault();
    var btn = ev.submitter || form.querySelector('button[type=submit]');
    var data = new URLSearchParams(new FormData(form, ev.submitter || undefined));
    if (btn) { btn.disabled = true; }
    fetch(form.action, { method: 'POST', body: data, credentials: 'same-origin', headers: { 'X-Live': '1' } })
      .then(function (r) {
        var path = new URL(r.url).pathname;
        if (path !== location.pathname) { location.href = r.url; return null; }
        return r.text();
      })
      .then(function (html) {
        if (html === null) { return; }
        swapRegions(html);
        showFlash(new DOMParser().parseFromString(html, 'text/html').querySelector('.flash'));
      })
      .catch(function () { form.submit(); })
      .then(function () { if (btn && document.contains(btn)) { btn.disabled = false; } });
  });
  function showFlash(flash) {
    var old = document.querySelector('main > .flash');
    if (old) { old.remove(); }
    if (!flash) { return; }
    var main = document.getElementById('main');
    main.insertBefore(document.importNode(flash, true), main.firstChild);
  }

  // ---- Live events. The server pushes every event of the user's families
  // as CloudEvents JSON; a page refreshes when one concerns what it shows.
  var recipient = body.getAttribute('data-recipient');
  var family = body.getAttribute('data-family');
  var live = document.getElementById('live-status');
  function concernsPage(ev) {
    var d = ev.data || {};
    if (ev.type.indexOf('emergency.alert.') === 0) { return true; }
    if (!recipient) { return true; }
    if (d.careRecipientId) { return d.careRecipientId === recipient; }
    return d.familyId === family;
  }
  function handle(ev) {
    if (!ev || !ev.type) { return; }
    if (window.ccEmergency) { window.ccEmergency.onEvent(ev, user); }
    if (ev.type === 'family.member.removed' && ev.data && ev.data.userId === user) { location.reload(); return; }
    if (concernsPage(ev)) {
      refreshSoon();
      var d = ev.data || {};
      if (live && d.actorName && d.actorId !== user) { live.textContent = 'Updated by ' + d.actorName; }
    }
  }

  var socket = null, attempt = 0, timer = 0, wasOpen = false;
  function connect() {
    clearTimeout(timer);
    if (socket || !navigator.onLine) { return; }
    var s;
    try {
      s = new WebSocket((location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/api/v1/ws');
    } catch (e) { retry(); return; }
    socket = s;
    s.onopen = function () {
      body.setAttribute('data-live-state', 'open');
      // Whatever happened while we were away is fetched once.
      if (wasOpen) { refreshSoon(0); }
      wasOpen = true;
      attempt = 0;
    };
    s.onmessage = function (m) {
      var ev;
      try { ev = JSON.parse(m.data); } catch (e) { return; }
      handle(ev);
    };
    s.onclose = function (e) {
      socket = null;
      body.setAttribute('data-live-state', 'closed');
      if (e.code === 4001) { location.reload(); return; } // signed out elsewhere
      retry();
    };
  }
  // retry reconnects with exponential backoff and jitter, after checking
  // (and renewing) the session: a socket refused for an expired token looks
  // like any network failure to the page.
  function retry() {
    clearTimeout(timer);
    var delay = Math.min(30000, 500 * Math.pow(2, attempt++)) * (0.5 + Math.random() / 2);
    timer = setTimeout(function () {
      if (!navigator.onLine) { return; }
      fetch('/session', { credentials: 'same-origin', cache: 'no-store' })
        .then(function (r) { if (r.status === 401) { location.reload(); } else { connect(); } })
        .catch(retry);
    }, delay);
  }
  window.addEventListener('online', function () { attempt = 0; retry(); });
  document.addEventListener('visibilitychange', function () {
    if (document.visibilityState === 'visible' && !socket) { attempt = 0; retry(); }
  });
  window.ccLive = { refresh: refreshSoon };
  connect();

  // ---- Offline support: the service worker keeps the emergency page of
  // each care recipient (listed by the server in data-offline).
  function registerWorker() {
    if (!('serviceWorker' in navigator)) { return; }
    navigator.serviceWorker.register('/sw.js').then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (reg) {
      var pages = (body.getAttribute('data-offline') || '').split(' ').filter(Boolean);
      if (reg.active && user) { reg.active.postMessage({ type: 'offline-pages', user: user, urls: pages }); }
    }).catch(function () { /* no worker: the site still works online */ });
  }
}());
