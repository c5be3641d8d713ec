// Start-up: connect to the service (preload bridge or WebSocket), then mount the app.
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { setApi } from './api/api';
import { connect } from './api/connect';
import { makeRouter } from './router';
import './styles.css';

const { client } = connect();
setApi(client);
createApp(App).use(createPinia()).use(makeRouter()).mount('#app');
