// embed.html?model=...&solver=...&controls&autoplay: one widget filling an iframe, its
// attributes from the URL (only the known names; values are validated by the widget).
import './widget.js';
import { FIELDS } from './settings.js';

const params = new URLSearchParams(location.search);
const widget = document.createElement('gits-sampler');
for (const name of [...FIELDS, 'card']) {
  const value = params.get(name);
  if (value !== null) widget.setAttribute(name, value);
}
for (const flag of ['controls', 'autoplay']) if (params.has(flag)) widget.setAttribute(flag, '');
document.body.append(widget);
