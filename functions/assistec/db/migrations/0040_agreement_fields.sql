-- Banking (issue 15): what the banking work left out of an agreement and a boleto.
--
-- bank_agreements.wallet_variation   Banco do Brasil's variação da carteira (3 digits, e.g. 019): its
--                                    CNAB 240 file and lot headers carry convênio (9) + 0014 +
--                                    carteira (2) + variação (3), its CNAB 400 (CBR641) detail the
--                                    variação in 92-94. The service asks it of every BB agreement; null
--                                    for the other banks (and BB agreements made before: their remessa
--                                    is refused until it is filled in).
-- bank_agreements.posto              Sicredi's posto (2 digits): part of its nosso número's check digit
--                                    and of its campo livre. The service asks it of every Sicredi
--                                    agreement; null for the other banks.
-- boletos.description                what a free boleto charges (1..200 characters): printed on the
--                                    boleto and in the message that sends it; null for an order's.

alter table bank_agreements
    add column wallet_variation text check (wallet_variation ~ '^[0-9]{1,3}$'),
    add column posto text check (posto ~ '^[0-9]{2}$');

alter table boletos
    add column description text check (length(description) between 1 and 200);
