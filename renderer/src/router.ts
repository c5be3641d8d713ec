// Hash history: the same build works under Electron's custom protocol and the browser-mode server, and a URL
// (e.g. a Compare case) reopens the same view.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';

export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/runs' },
  { path: '/datasets/:id?', name: 'datasets', component: () => import('./views/DatasetsView.vue'), meta: { title: 'Data sets' } },
  { path: '/new', name: 'new', component: () => import('./views/NewRunView.vue'), meta: { title: 'New run' } },
  { path: '/runs', name: 'runs', component: () => import('./views/RunsView.vue'), meta: { title: 'Runs' } },
  { path: '/runs/:id', name: 'run', component: () => import('./views/RunView.vue'), meta: { title: 'Run' } },
  { path: '/compare', name: 'compare', component: () => import('./views/CompareView.vue'), meta: { title: 'Compare' } },
  { path: '/try', name: 'try', component: () => import('./views/TryView.vue'), meta: { title: 'Try it' } },
  { path: '/settings', name: 'settings', component: () => import('./views/SettingsView.vue'), meta: { title: 'Settings' } },
  { path: '/:rest(.*)*', redirect: '/runs' },
];

export function makeRouter() {
  const router = createRouter({ history: createWebHashHistory(), routes });
  router.afterEach((to) => {
    const title = typeof to.meta.title === 'string' ? to.meta.title : '';
    document.title = title ? `${title} — AimKP Workbench` : 'AimKP Workbench';
  });
  return router;
}
