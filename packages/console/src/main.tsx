import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { captureChatLinkToken } from './pages/people/chat-link-token.js';
import './styles.css';

// Before anything renders: a /link-chat#token=… link's token leaves the address bar and survives signing in.
captureChatLinkToken();
const root = document.getElementById('root');
if (root) {
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
}
