import { render } from 'preact';
import { App } from './app.js';
import { Live } from './live.js';
import './styles.css';

const live = new Live();
const root = document.getElementById('app')!;
root.replaceChildren();
render(<App live={live} />, root);
live.start();
