// Hash history: the same build works under Electron's custom protocol and the browser-mode server, and a URL
// (e.g. a Compare case) reopens the same view.
import { createRouter, createWebHashHistory, type RouteRecordRaw } from 'vue-router';
// Views are bundled with the app, not lazy chunks: everything is local, and a page left open across a rebuild
// (browser mode) must not ask for chunk names that no longer exist.
import CompareView from './views/CompareView.vue';
import DatasetsView from './views/DatasetsView.vue';
import NewRunView from './views/NewRunView.vue';
import RunsView from './views/RunsView.vue';
import RunView from './views/RunView.vue';
import SettingsView from './views/SettingsView.vue';
import StudyView from './views/StudyView.vue';
import TryView from './views/TryView.vue';

export const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/runs' },
  { path: '/datasets/:id?', name: 'datasets', component: DatasetsView, meta: { title: 'Data sets' } },
  { path: '/new', name: 'new', component: NewRunView, meta: { title: 'New run' } },
  { path: '/runs', name: 'runs', component: RunsView, meta: { title: 'Runs' } },
  { path: '/runs/:id', name: 'run', component: RunView, meta: { title: 'Run' } },
  { path: '/study', name: 'study', component: StudyView, meta: { title: 'Study' } },
  { path: '/compare', name: 'compare', component: CompareView, meta: { title: 'Compare' } },
  { path: '/try', name: 'try', component: TryView, meta: { title: 'Try it' } },
  { path: '/settings', name: 'settings', component: SettingsView, meta: { title: 'Settings' } },
  { path: '/:rest(.*)*', redirect: '/runs' },
];

export function makeRouter() {
  const router = createRouter({ history: createWebHashHistory(), routes });
  router.afterEach((to, from) => {
    const title = typeof to.meta.title === 'string' ? to.meta.title : '';
    document.title = title ? `${title} — AimKP Workbench` : 'AimKP Workbench';
    // A view opens at its top: <main> scrolls (not the window, which vue-router's scrollBehavior handles), and it
    // kept the previous view's position (New run scrolled to Launch opened the Run view half way down). A change
    // of query or of a selection within a view (Compare's case, a data set) keeps its place.
    if (to.name !== from.name || (to.name === 'run' && to.params.id !== from.params.id))
      document.getElementById('main')?.scrollTo({ top: 0 });
  });
  return router;
}
