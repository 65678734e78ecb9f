import { ChatPanel, useChat } from "../ChatDock";
import { t } from "../i18n";

/** The shop's internal chat, full page: every signed-in user of the shop, live over the WebSocket.
 * The log and the socket are the shell's (ChatDock.tsx): the header's drawer shows the same chat. */
export function ChatPage() {
  const { state } = useChat();
  return (
    <div className="chat-page">
      <div className="page-head">
        <h1>{t.chat.title}</h1>
        <p className="muted" role="status" aria-live="polite">
          <span className={state === "live" ? "live" : undefined}>{t.chat.states[state]}</span>
        </p>
      </div>
      <ChatPanel prefix="chat" />
    </div>
  );
}
