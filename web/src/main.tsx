// Entry point: resume the tab's session if its token still works, else show the sign-in form.
import { render } from 'preact';
import { App } from './app.js';
import './styles.css';

render(<App />, document.getElementById('app')!);
