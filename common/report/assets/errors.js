// Runs first, in <head>: every later script error is recorded, shown and counted.
window.nodelabErrors = [];
window.nodelabReport = function (msg) {
  window.nodelabErrors.push(String(msg));
  if (!document.body) return;
  document.body.dataset.errors = String(window.nodelabErrors.length);
  var box = document.getElementById('errors');
  if (box) { box.hidden = false; box.textContent = 'script errors: ' + window.nodelabErrors.join(' | '); }
};
window.onerror = function (msg, src, line, col) { window.nodelabReport(msg + ' (line ' + line + ':' + col + ')'); };
window.addEventListener('unhandledrejection', function (e) { window.nodelabReport('unhandled rejection: ' + e.reason); });
document.addEventListener('securitypolicyviolation', function (e) { window.nodelabReport('blocked by the page\'s Content-Security-Policy: ' + e.violatedDirective + ' ' + (e.blockedURI || 'inline')); });
