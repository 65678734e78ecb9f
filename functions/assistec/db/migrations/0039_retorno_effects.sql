-- Banking (issue 15 §4): what a retorno occurrence says beyond its values, kept on its line so a
-- person sees it (GET /banking/files/{id}, the unmatched list).
--
-- bank_file_lines.nosso_numero_text   the bank's nosso número column as the file has it (blanks
--                                     trimmed): a line no boleto matched (another convênio, a wrong
--                                     check digit) shows what the bank wrote.
-- bank_file_lines.due_date            the title's due date as the bank states it (a due-date change's
--                                     new date).
-- bank_file_lines.reasons             the bank's reason codes (motivos: why an entry was rejected...).

alter table bank_file_lines
    add column nosso_numero_text text check (length(nosso_numero_text) between 1 and 40),
    add column due_date date,
    add column reasons text check (length(reasons) between 1 and 100);
