// Progressive enhancement only: every page works without this file.
import { initAll } from '/assets/govuk-frontend.min.js'

document.body.classList.add('js-enabled')
if ('noModule' in HTMLScriptElement.prototype) {
  document.body.classList.add('govuk-frontend-supported')
  initAll()
}

// A page that follows background work (a pack being generated) refreshes itself by its meta refresh
// without JavaScript; with it, only the progress region is fetched again, so focus and scroll stay put.
// Only while the work is unfinished: a finished page stays as it is (reloading it would loop).
const progress = document.querySelector('[data-progress-url]:not([data-finished="true"])')
if (progress) {
  const url = progress.getAttribute('data-progress-url')
  const refresh = document.querySelector('meta[http-equiv="refresh"]')
  if (refresh) refresh.remove()
  const poll = async () => {
    const response = await fetch(url, { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
    if (!response.ok) return
    const html = await response.text()
    const holder = document.createElement('div')
    holder.innerHTML = html
    const fresh = holder.querySelector('[data-progress-url]')
    if (fresh) {
      // Replaced only when it changed: the region is a live region, and a screen reader would
      // otherwise read the same progress out every second.
      if (progress.innerHTML !== fresh.innerHTML) progress.innerHTML = fresh.innerHTML
      if (fresh.getAttribute('data-finished') === 'true') {
        window.location.reload()
        return
      }
    }
    window.setTimeout(poll, 1000)
  }
  window.setTimeout(poll, 1000)
}
