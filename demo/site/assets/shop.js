// Demo shop behaviour. The cart button reports `cart_add` (with the item, for also-bought) to Veneer when its client script
// (/__veneer/client.js) is on the page; the page works without it.
document.addEventListener('click', (ev) => {
  const button = ev.target.closest && ev.target.closest('#add-to-cart')
  if (!button) return
  const status = document.getElementById('cart-status')
  if (window.veneer && typeof window.veneer.track === 'function')
    window.veneer.track('cart_add', { item: button.dataset.product })
  if (status) status.textContent = 'Added to your cart.'
})
