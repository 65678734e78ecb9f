// Every text the panel shows, in pt-BR, in one place.
import type { components } from "./api/schema";

type S = components["schemas"];
export type OrderStatus = S["OrderOut"]["status"];
export type Priority = S["OrderOut"]["priority"];

export const statusLabel: Record<OrderStatus, string> = {
  received: "Recebido",
  diagnosing: "Em diagnóstico",
  quote_sent: "Orçamento enviado",
  approved: "Orçamento aprovado",
  rejected: "Orçamento recusado",
  waiting_parts: "Aguardando peças",
  repairing: "Em reparo",
  quality_check: "Em testes de qualidade",
  ready: "Pronto para retirada",
  delivered: "Entregue",
  cancelled: "Cancelado",
};

export const priorityLabel: Record<Priority, string> = {
  low: "Baixa",
  normal: "Normal",
  high: "Alta",
  urgent: "Urgente",
};

export const roleLabel: Record<S["Role"], string> = {
  owner: "Dono",
  admin: "Administrador",
  technician: "Técnico",
  attendant: "Atendente",
};

export const deviceTypeLabel: Record<S["DeviceIn"]["type"], string> = {
  phone: "Celular",
  tablet: "Tablet",
  computer: "Computador",
  other: "Outro",
};

export const billingTypeLabel: Record<S["ChargeIn"]["billing_type"], string> = {
  PIX: "PIX",
  BOLETO: "Boleto",
  CREDIT_CARD: "Cartão de crédito",
};

export const chargeStatusLabel: Record<S["ChargeOut"]["status"], string> = {
  pending: "Aguardando pagamento",
  overdue: "Vencida",
  paid: "Paga",
  refunding: "Estornando",
  refunded: "Estornada",
  chargeback: "Contestada",
  cancelled: "Cancelada",
};

export const quoteStatusLabel: Record<S["QuoteOut"]["status"], string> = {
  pending: "Aguardando decisão",
  approved: "Aprovado",
  rejected: "Recusado",
  superseded: "Substituído",
};

export const invoiceStatusLabel: Record<S["InvoiceOut"]["status"], string> = {
  pending: "Em aberto",
  overdue: "Vencida",
  paid: "Paga",
  refunded: "Estornada",
  cancelled: "Cancelada",
};

export const documentLabel = {
  intake: "Comprovante de entrada",
  quote: "Orçamento",
  delivery: "Comprovante de entrega",
} as const;

export const t = {
  app: "assistec",
  skip: "Pular para o conteúdo",
  loading: "Carregando…",
  save: "Salvar",
  cancel: "Cancelar",
  refresh: "Atualizar",
  none: "—",
  nav: {
    board: "Ordens de serviço",
    customers: "Clientes",
    users: "Usuários",
    billing: "Assinatura",
    logout: "Sair",
    menu: "Menu principal",
  },
  login: {
    title: "Entrar no painel",
    email: "E-mail",
    password: "Senha",
    submit: "Entrar",
    submitting: "Entrando…",
    failed: "E-mail ou senha incorretos.",
  },
  board: {
    title: "Ordens de serviço",
    filters: "Filtros",
    status: "Situação",
    allOpen: "Todas em aberto",
    technician: "Técnico",
    anyTechnician: "Qualquer técnico",
    number: "Número da OS",
    empty: "Nenhuma ordem aqui.",
    more: "há mais: use os filtros",
    live: "Atualização automática ligada",
    polling: "Atualização a cada 30 segundos",
    newOrder: "Nova OS (escolha o cliente)",
    count: (n: number) => (n === 1 ? "1 ordem" : `${n} ordens`),
  },
  order: {
    title: (n: number) => `OS ${String(n).padStart(4, "0")}`,
    customer: "Cliente",
    device: "Aparelho",
    problem: "Defeito relatado",
    diagnosis: "Diagnóstico",
    priority: "Prioridade",
    promised: "Prometido para",
    status: "Situação",
    paid: "Pago",
    history: "Histórico",
    moveTo: "Mover para",
    reason: "Motivo (opcional)",
    noMoves: "Esta OS está encerrada.",
    quoteDecisionHint: "A aprovação ou recusa vem do orçamento (abaixo).",
    documents: "Documentos",
    create: "Abrir OS",
    created: "OS aberta.",
    back: "Voltar ao quadro",
  },
  quote: {
    title: "Orçamentos",
    none: "Nenhum orçamento ainda.",
    new: "Novo orçamento",
    description: "Descrição do serviço",
    price: "Valor (R$)",
    addLine: "Adicionar linha",
    removeLine: "Remover linha",
    deadline: "Prazo (dias)",
    create: "Criar orçamento",
    send: "Enviar ao cliente (WhatsApp)",
    sent: "Orçamento enviado ao cliente.",
    decide: "Decisão no balcão",
    decidedName: "Nome de quem decidiu",
    approve: "Aprovar",
    reject: "Recusar",
    total: "Total",
    link: "Link do cliente",
    version: (v: number) => `Versão ${v}`,
  },
  charge: {
    title: "Cobranças",
    none: "Nenhuma cobrança.",
    new: "Nova cobrança",
    type: "Forma de pagamento",
    value: "Valor (R$, vazio = total do orçamento)",
    create: "Gerar cobrança",
    pix: "PIX copia e cola",
    boleto: "Linha digitável",
    invoice: "Página de pagamento",
    receipt: "Comprovante",
  },
  customers: {
    title: "Clientes",
    search: "Buscar por nome, telefone ou documento",
    new: "Novo cliente",
    name: "Nome",
    phone: "Telefone (WhatsApp)",
    email: "E-mail (opcional)",
    document: "CPF ou CNPJ (opcional)",
    create: "Cadastrar cliente",
    empty: "Nenhum cliente encontrado.",
    devices: "Aparelhos",
    noDevices: "Nenhum aparelho cadastrado.",
    more: "Carregar mais",
  },
  devices: {
    new: "Novo aparelho",
    type: "Tipo",
    brand: "Marca",
    model: "Modelo",
    serial: "Número de série (opcional)",
    imei: "IMEI (opcional)",
    condition: "Estado do aparelho (opcional)",
    create: "Cadastrar aparelho",
    openOrder: "Abrir OS deste aparelho",
  },
  photos: {
    title: "Fotos",
    add: "Adicionar foto",
    hint: "JPEG, PNG, WebP ou HEIC, até 10 MB. No celular, abre a câmera.",
    wrongType: "Envie uma imagem JPEG, PNG, WebP ou HEIC.",
    tooBig: "A foto passa de 10 MB.",
    alt: (n: number) => `Foto ${n} do aparelho`,
  },
  users: {
    title: "Usuários",
    new: "Novo usuário",
    name: "Nome",
    email: "E-mail",
    role: "Papel",
    password: "Senha inicial",
    create: "Criar usuário",
    active: "Ativo",
    inactive: "Inativo",
    deactivate: "Desativar",
    activate: "Reativar",
  },
  billing: {
    title: "Assinatura do assistec",
    plan: "Plano",
    status: "Situação",
    nextDue: "Próximo vencimento",
    trialEnds: "Fim do período de teste",
    invoices: "Faturas",
    pay: "Pagar",
    noInvoices: "Nenhuma fatura.",
    changePlan: "Trocar de plano",
    changePlanSubmit: "Trocar plano",
    suspendedTitle: "Acesso suspenso por falta de pagamento",
    suspendedText:
      "A assinatura da loja está com fatura vencida além do prazo de tolerância. Os dados estão guardados, mas o painel fica bloqueado até o pagamento. Pague a fatura em aberto abaixo (PIX, boleto ou cartão): a loja volta a funcionar assim que o pagamento for confirmado.",
    cancelledTitle: "Assinatura cancelada",
    cancelledText:
      "A assinatura foi cancelada e o período pago terminou. Os dados estão guardados: fale com o suporte para reativar a loja.",
    askOwner: "Só o dono ou um administrador da loja vê e paga as faturas. Peça a eles para regularizar a assinatura.",
  },
  realtime: {
    on: "ao vivo",
  },
  notFound: "Página não encontrada.",
  errors: {
    network: "Sem conexão com o servidor. Verifique a internet e tente de novo.",
    unauthorized: "Sua sessão terminou. Entre novamente.",
    paymentRequired: "A assinatura da loja está suspensa.",
    forbidden: "Seu papel na loja não permite esta ação.",
    notFound: "Não encontrado.",
    conflict: "Alguém alterou este registro antes de você. Atualize e tente de novo.",
    invalid: "Confira os dados informados.",
    tooMany: "Muitas tentativas. Aguarde um pouco e tente de novo.",
    server: "Algo deu errado no servidor. Tente de novo em instantes.",
    money: "Valor inválido: use por exemplo 389,90.",
  },
} as const;
