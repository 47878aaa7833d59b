// The event log: every public event of every widget on the page, newest first.
const log = document.querySelector('#log');
const names = ['va-before-connect', 'va-status-change', 'va-connect', 'va-transcript', 'va-error', 'va-disconnect', 'va-open', 'va-close', 'va-tool-call', 'va-tool-result'];
let lines = [];
for (const name of names) {
  document.addEventListener(name, (event) => {
    const line = `${new Date().toLocaleTimeString()}  #${event.target.id}  ${name}  ${JSON.stringify(event.detail ?? {})}`;
    lines = [line, ...lines].slice(0, 200);
    log.textContent = lines.join('\n');
  });
}
