import { useEffect, useRef, useState } from "react";
import { Navigate, NavLink, Route, Routes, useLocation, useNavigate } from "react-router";

import { call } from "./api/client";
import { ChatButton, ChatDrawer, ChatProvider } from "./ChatDock";
import type { PaymentRequired } from "./api/session";
import { usePanel, useTokens } from "./context";
import { t } from "./i18n";
import { AgendaPage } from "./pages/Agenda";
import { BankPage } from "./pages/Bank";
import { BillingPage } from "./pages/Billing";
import { BoardPage } from "./pages/Board";
import { ChatPage } from "./pages/Chat";
import { CustomerPage, CustomersPage } from "./pages/Customers";
import { LoginPage } from "./pages/Login";
import { OrderPage } from "./pages/Order";
import { PricesPage } from "./pages/Prices";
import { ReportsPage } from "./pages/Reports";
import { ManagersOnly, SettingsPage } from "./pages/Settings";
import { GoogleSettingsPage, SchedulingSettingsPage, SmtpSettingsPage, SuppressionsPage } from "./pages/SettingsMore";
import {
  DocumentSettingsPage,
  EmailTemplatesPage,
  PaymentSettingsPage,
  QuoteTemplatePage,
  WhatsappBotSettingsPage,
  WorkflowSettingsPage,
} from "./pages/SettingsPages";
import { StockPage } from "./pages/Stock";
import { WhatsAppPage } from "./pages/WhatsApp";
import { UsersPage } from "./pages/Users";
import { atCounter, managesShop } from "./roles";

export function App() {
  const tokens = useTokens();
  const location = useLocation();
  if (!tokens) {
    return (
      <Routes>
        <Route path="/entrar" element={<LoginPage />} />
        <Route path="*" element={<Navigate to="/entrar" replace state={{ from: location.pathname }} />} />
      </Routes>
    );
  }
  return <Shell />;
}

/** A screen reader hears the new page: focus moves to the main region on navigation, and the
 * tab's title follows the page's heading. */
function useAnnouncePages() {
  const location = useLocation();
  const first = useRef(true);
  useEffect(() => {
    const main = document.getElementById("main");
    const timer = setTimeout(() => {
      const heading = main?.querySelector("h1")?.textContent;
      document.title = heading ? `${heading} — ${t.app}` : t.app;
    }, 300);
    if (first.current) first.current = false;
    else main?.focus();
    return () => clearTimeout(timer);
  }, [location.pathname]);
}

function Shell() {
  const { api, session } = usePanel();
  const tokens = useTokens();
  const navigate = useNavigate();
  useAnnouncePages();
  const role = tokens?.role ?? null;
  const [shopName, setShopName] = useState<string>("");
  const [userName, setUserName] = useState<string>("");
  const [blocked, setBlocked] = useState<PaymentRequired | null>(null);
  const location = useLocation();
  const [chatOpen, setChatOpen] = useState(false);
  const onChatPage = location.pathname === "/chat";
  const closeChat = () => {
    setChatOpen(false);
    document.querySelector<HTMLButtonElement>("[data-testid=chat-button]")?.focus();
  };

  useEffect(() => {
    let live = true;
    call(api.GET("/me")).then(
      (me) => {
        if (!live) return;
        setShopName(me.shop.name);
        setUserName(me.user.name);
        if (me.shop.billing_status === "suspended" || me.shop.billing_status === "cancelled") {
          setBlocked({ code: `subscription_${me.shop.billing_status}`, message: "" });
          navigate("/assinatura", { replace: true });
        }
      },
      () => undefined,
    );
    return () => {
      live = false;
    };
  }, [api, navigate]);

  useEffect(
    () =>
      session.onPaymentRequired((info) => {
        setBlocked(info);
        navigate("/assinatura", { replace: true });
      }),
    [session, navigate],
  );

  return (
    <ChatProvider>
      <div className={chatOpen && !onChatPage ? "shell with-drawer" : "shell"}>
        <a className="skip" href="#main">
          {t.skip}
        </a>
        <header className="topbar">
          <div className="brand">
            <strong>{t.app}</strong>
            {shopName ? <span className="shop"> · {shopName}</span> : null}
          </div>
          <nav aria-label={t.nav.menu}>
            <ul>
              <li>
                <NavLink to="/" end>
                  {t.nav.board}
                </NavLink>
              </li>
              <li>
                <NavLink to="/clientes">{t.nav.customers}</NavLink>
              </li>
              {atCounter(role) ? (
                <li>
                  <NavLink to="/whatsapp">{t.nav.whatsapp}</NavLink>
                </li>
              ) : null}
              <li>
                <NavLink to="/agenda">{t.nav.agenda}</NavLink>
              </li>
              <li>
                <NavLink to="/estoque">{t.nav.stock}</NavLink>
              </li>
              <li>
                <NavLink to="/chat">{t.nav.chat}</NavLink>
              </li>
              <li>
                <NavLink to="/usuarios">{t.nav.users}</NavLink>
              </li>
              {managesShop(role) ? (
                <>
                  <li>
                    <NavLink to="/precos">{t.nav.prices}</NavLink>
                  </li>
                  <li>
                    <NavLink to="/relatorios">{t.nav.reports}</NavLink>
                  </li>
                  <li>
                    <NavLink to="/banco">{t.nav.bank}</NavLink>
                  </li>
                  <li>
                    <NavLink to="/configuracoes">{t.nav.settings}</NavLink>
                  </li>
                  <li>
                    <NavLink to="/assinatura">{t.nav.billing}</NavLink>
                  </li>
                </>
              ) : null}
            </ul>
          </nav>
          <div className="who">
            {onChatPage ? null : (
              <ChatButton open={chatOpen} onToggle={() => (chatOpen ? closeChat() : setChatOpen(true))} />
            )}
            <span className="muted">{userName}</span>
            <button type="button" className="link" onClick={() => void session.logout()}>
              {t.nav.logout}
            </button>
          </div>
        </header>
        <main id="main" tabIndex={-1}>
          <Routes>
            <Route path="/" element={<BoardPage />} />
            <Route path="/ordens/:orderId" element={<OrderPage />} />
            <Route path="/clientes" element={<CustomersPage />} />
            <Route path="/clientes/:customerId" element={<CustomerPage />} />
            <Route path="/usuarios" element={<UsersPage />} />
            <Route path="/configuracoes" element={<SettingsPage />} />
            <Route
              path="/configuracoes/documentos"
              element={
                <ManagersOnly>
                  <DocumentSettingsPage />
                </ManagersOnly>
              }
            />
            <Route
              path="/configuracoes/emails"
              element={
                <ManagersOnly>
                  <EmailTemplatesPage />
                </ManagersOnly>
              }
            />
            <Route
              path="/configuracoes/whatsapp"
              element={
                <ManagersOnly>
                  <WhatsappBotSettingsPage />
                </ManagersOnly>
              }
            />
            <Route
              path="/configuracoes/orcamento"
              element={
                <ManagersOnly>
                  <QuoteTemplatePage />
                </ManagersOnly>
              }
            />
            <Route
              path="/configuracoes/pagamentos"
              element={
                <ManagersOnly>
                  <PaymentSettingsPage />
                </ManagersOnly>
              }
            />
            <Route
              path="/configuracoes/fluxo"
              element={
                <ManagersOnly>
                  <WorkflowSettingsPage />
                </ManagersOnly>
              }
            />
            <Route
              path="/configuracoes/agendamentos"
              element={
                <ManagersOnly>
                  <SchedulingSettingsPage />
                </ManagersOnly>
              }
            />
            <Route
              path="/configuracoes/google"
              element={
                <ManagersOnly>
                  <GoogleSettingsPage />
                </ManagersOnly>
              }
            />
            <Route
              path="/configuracoes/servidor-email"
              element={
                <ManagersOnly>
                  <SmtpSettingsPage />
                </ManagersOnly>
              }
            />
            <Route path="/configuracoes/emails-bloqueados" element={<SuppressionsPage />} />
            <Route path="/agenda" element={<AgendaPage />} />
            <Route path="/precos" element={<PricesPage />} />
            <Route path="/estoque" element={<StockPage />} />
            <Route path="/chat" element={<ChatPage />} />
            <Route path="/whatsapp" element={<WhatsAppPage />} />
            <Route path="/whatsapp/:conversationId" element={<WhatsAppPage />} />
            <Route path="/relatorios" element={<ReportsPage />} />
            <Route
              path="/banco/:tab?"
              element={
                <ManagersOnly>
                  <BankPage />
                </ManagersOnly>
              }
            />
            <Route path="/assinatura" element={<BillingPage blocked={blocked} />} />
            <Route path="/entrar" element={<Navigate to="/" replace />} />
            <Route path="*" element={<p>{t.notFound}</p>} />
          </Routes>
        </main>
        {chatOpen && !onChatPage ? <ChatDrawer onClose={closeChat} /> : null}
      </div>
    </ChatProvider>
  );
}
