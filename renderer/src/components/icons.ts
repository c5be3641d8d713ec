// Inline SVG icons as render functions (bundled; no icon font or network). Paths are simple strokes (24×24).
import { h, type FunctionalComponent } from 'vue';

function icon(paths: string[]): FunctionalComponent {
  const c: FunctionalComponent = () =>
    h(
      'svg',
      {
        viewBox: '0 0 24 24',
        fill: 'none',
        stroke: 'currentColor',
        'stroke-width': 2,
        'stroke-linecap': 'round',
        'stroke-linejoin': 'round',
        'aria-hidden': 'true',
        focusable: 'false',
      },
      paths.map((d) => h('path', { d })),
    );
  return c;
}

export const IconData = icon([
  'M4 6c0-1.7 3.6-3 8-3s8 1.3 8 3-3.6 3-8 3-8-1.3-8-3z',
  'M4 6v12c0 1.7 3.6 3 8 3s8-1.3 8-3V6',
  'M4 12c0 1.7 3.6 3 8 3s8-1.3 8-3',
]);
export const IconPlay = icon(['M6 4l14 8-14 8z']);
export const IconList = icon(['M8 6h13', 'M8 12h13', 'M8 18h13', 'M3 6h.01', 'M3 12h.01', 'M3 18h.01']);
// Dots with a mean bar and an interval: the Study view.
export const IconStudy = icon(['M4 20h16', 'M8 5v11', 'M6 10h4', 'M16 8v8', 'M14 12h4']);
export const IconCompare = icon(['M9 3H4v18h5', 'M15 3h5v18h-5', 'M12 2v20']);
export const IconSpark = icon(['M12 2l2.4 6.6L21 11l-6.6 2.4L12 20l-2.4-6.6L3 11l6.6-2.4z']);
export const IconGear = icon([
  'M12 15a3 3 0 1 0 0-6 3 3 0 0 0 0 6z',
  'M19.4 15a1.7 1.7 0 0 0 .3 1.8l.1.1a2 2 0 1 1-2.8 2.8l-.1-.1a1.7 1.7 0 0 0-1.8-.3 1.7 1.7 0 0 0-1 1.5V21a2 2 0 1 1-4 0v-.1a1.7 1.7 0 0 0-1.1-1.5 1.7 1.7 0 0 0-1.8.3l-.1.1a2 2 0 1 1-2.8-2.8l.1-.1a1.7 1.7 0 0 0 .3-1.8 1.7 1.7 0 0 0-1.5-1H3a2 2 0 1 1 0-4h.1a1.7 1.7 0 0 0 1.5-1.1 1.7 1.7 0 0 0-.3-1.8l-.1-.1a2 2 0 1 1 2.8-2.8l.1.1a1.7 1.7 0 0 0 1.8.3H9a1.7 1.7 0 0 0 1-1.5V3a2 2 0 1 1 4 0v.1a1.7 1.7 0 0 0 1 1.5 1.7 1.7 0 0 0 1.8-.3l.1-.1a2 2 0 1 1 2.8 2.8l-.1.1a1.7 1.7 0 0 0-.3 1.8V9a1.7 1.7 0 0 0 1.5 1H21a2 2 0 1 1 0 4h-.1a1.7 1.7 0 0 0-1.5 1z',
]);
export const IconStop = icon(['M6 6h12v12H6z']);
export const IconLogo = icon(['M4 4h16v16H4z', 'M4 14l4-4 4 4 3-3 5 5', 'M15 8h.01']);
