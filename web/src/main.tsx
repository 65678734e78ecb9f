import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter } from "react-router";

import { App } from "./App";
import { createApi } from "./api/client";
import { Session } from "./api/session";
import { loadConfig } from "./config";
import { PanelProvider } from "./context";
import "./styles.css";

const config = await loadConfig();
const session = new Session(config.apiBase, window.sessionStorage);
const api = createApi(session);

createRoot(document.getElementById("root") as HTMLElement).render(
  <StrictMode>
    <BrowserRouter>
      <PanelProvider value={{ config, session, api }}>
        <App />
      </PanelProvider>
    </BrowserRouter>
  </StrictMode>,
);
