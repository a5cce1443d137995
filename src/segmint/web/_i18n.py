"""The web UI's words in English, Danish, Swedish and Norwegian (bokmål).

Labels the report already has (customers, revenue, segments, FACTS / SALES / VALUE, index,
trait names) come from :mod:`segmint.report._i18n`, so a word is translated once; this table
holds only what the pages add (navigation, forms, buttons, messages).
"""

from __future__ import annotations

from typing import Any

from segmint.report._i18n import _WINDOWED, LANGUAGES, Words, trait_labels, words

#: the cookie that remembers the chosen language
LANG_COOKIE = "segmint_lang"

LANGUAGE_NAMES: dict[str, str] = {"en": "English", "da": "Dansk", "sv": "Svenska", "nb": "Norsk"}

# key: (en, da, sv, nb)
_UI: dict[str, tuple[str, str, str, str]] = {
    "app": ("segmint", "segmint", "segmint", "segmint"),
    "skip": ("Skip to content", "Gå til indhold", "Hoppa till innehållet", "Gå til innhold"),
    "nav": ("Main menu", "Hovedmenu", "Huvudmeny", "Hovedmeny"),
    "language": ("Language", "Sprog", "Språk", "Språk"),
    "dashboard": ("Dashboard", "Overblik", "Översikt", "Oversikt"),
    "segment_list": ("Segments", "Segmenter", "Segment", "Segmenter"),
    "new_segment": ("New segment", "Nyt segment", "Nytt segment", "Nytt segment"),
    "customer_360": ("Customer", "Kunde", "Kund", "Kunde"),
    "models": ("Models", "Modeller", "Modeller", "Modeller"),
    "exports": ("Exports", "Eksporter", "Exporter", "Eksporter"),
    "login": ("Log in", "Log ind", "Logga in", "Logg inn"),
    "logout": ("Log out", "Log ud", "Logga ut", "Logg ut"),
    "signed_in_as": ("Signed in as {name} ({role})", "Logget ind som {name} ({role})",
                     "Inloggad som {name} ({role})", "Logget inn som {name} ({role})"),
    "login_token": ("With an API token", "Med en API-nøgle", "Med en API-nyckel",
                    "Med en API-nøkkel"),
    "login_password": ("With user name and password", "Med brugernavn og adgangskode",
                       "Med användarnamn och lösenord", "Med brukernavn og passord"),
    "token": ("API token", "API-nøgle", "API-nyckel", "API-nøkkel"),
    "username": ("User name", "Brugernavn", "Användarnamn", "Brukernavn"),
    "password": ("Password", "Adgangskode", "Lösenord", "Passord"),
    "login_failed": ("Login failed: {message}", "Login mislykkedes: {message}",
                     "Inloggningen misslyckades: {message}", "Innloggingen mislyktes: {message}"),
    "role_too_low": (
        "Your role ({role}) cannot see this page; it needs {needed}. Ask an admin.",
        "Din rolle ({role}) kan ikke se denne side; den kræver {needed}. Spørg en administrator.",
        "Din roll ({role}) kan inte se den här sidan; den kräver {needed}. Fråga en administratör.",
        "Rollen din ({role}) kan ikke se denne siden; den krever {needed}. Spør en administrator.",
    ),
    "role_too_low_part": (
        "Your role ({role}) cannot see this part; it needs {needed}.",
        "Din rolle ({role}) kan ikke se denne del; den kræver {needed}.",
        "Din roll ({role}) kan inte se den här delen; den kräver {needed}.",
        "Rollen din ({role}) kan ikke se denne delen; den krever {needed}.",
    ),
    "loading": ("Loading…", "Henter…", "Hämtar…", "Henter…"),
    "error": ("Something went wrong: {message}", "Noget gik galt: {message}",
              "Något gick fel: {message}", "Noe gikk galt: {message}"),
    "latest_run": ("Latest run", "Seneste kørsel", "Senaste körningen", "Siste kjøring"),
    "no_run": ("No run yet: run 'segmint run' first.",
               "Ingen kørsel endnu: kør 'segmint run' først.",
               "Ingen körning ännu: kör 'segmint run' först.",
               "Ingen kjøring ennå: kjør 'segmint run' først."),
    "run": ("Run", "Kørsel", "Körning", "Kjøring"),
    "as_of": ("As of", "Pr.", "Per", "Per"),
    "status": ("Status", "Status", "Status", "Status"),
    "finished": ("Finished", "Færdig", "Klar", "Ferdig"),
    "data_as_of": ("Data published {time}", "Data offentliggjort {time}",
                   "Data publicerade {time}", "Data publisert {time}"),
    "segment_sizes": ("Segment sizes", "Segmenternes størrelse", "Segmentens storlek",
                      "Segmentenes størrelse"),
    "trends": ("Segment sizes over runs", "Segmenternes størrelse over kørsler",
               "Segmentens storlek över körningar", "Segmentenes størrelse over kjøringer"),
    "name": ("Name", "Navn", "Namn", "Navn"),
    "kind": ("Kind", "Type", "Typ", "Type"),
    "description": ("Description", "Beskrivelse", "Beskrivning", "Beskrivelse"),
    "entered": ("Entered", "Kom ind", "Kom in", "Kom inn"),
    "exited": ("Left", "Gik ud", "Gick ut", "Gikk ut"),
    "rule": ("Rule", "Regel", "Regel", "Regel"),
    "family": ("Family", "Familie", "Familj", "Familie"),
    "not_evaluated": ("not yet evaluated", "endnu ikke beregnet", "ännu inte beräknat",
                      "ennå ikke beregnet"),
    "filter": ("Filter", "Filtrer", "Filtrera", "Filtrer"),
    "builder": ("Segment builder", "Segmentbygger", "Segmentbyggare", "Segmentbygger"),
    "builder_help": (
        "Add conditions on traits and attributes; the count updates as you edit.",
        "Tilføj betingelser på egenskaber og attributter; antallet opdateres, mens du retter.",
        "Lägg till villkor på egenskaper och attribut; antalet uppdateras medan du redigerar.",
        "Legg til betingelser på egenskaper og attributter; antallet oppdateres mens du redigerer.",
    ),
    "segment_name": ("Segment name", "Segmentets navn", "Segmentets namn", "Segmentets navn"),
    "match": ("Customers must match", "Kunderne skal opfylde", "Kunderna ska uppfylla",
              "Kundene må oppfylle"),
    "match_all": ("all conditions", "alle betingelser", "alla villkor", "alle betingelser"),
    "match_any": ("any condition", "mindst én betingelse", "minst ett villkor",
                  "minst én betingelse"),
    "conditions": ("Conditions", "Betingelser", "Villkor", "Betingelser"),
    "condition_n": ("Condition {n}", "Betingelse {n}", "Villkor {n}", "Betingelse {n}"),
    "cond_field": ("Field", "Felt", "Fält", "Felt"),
    "operator": ("Operator", "Operator", "Operator", "Operator"),
    "cond_value": ("Value", "Værdi", "Värde", "Verdi"),
    "cond_value_help": (
        "Lists: separate with commas (between: low, high). Durations: 90d or 12w.",
        "Lister: adskil med komma (between: lav, høj). Varigheder: 90d eller 12w.",
        "Listor: separera med komma (between: låg, hög). Tidsperioder: 90d eller 12w.",
        "Lister: skill med komma (between: lav, høy). Varigheter: 90d eller 12w.",
    ),
    "add_condition": ("Add condition", "Tilføj betingelse", "Lägg till villkor",
                      "Legg til betingelse"),
    "remove": ("Remove", "Fjern", "Ta bort", "Fjern"),
    "live_count": ("Customers matching now", "Kunder, der matcher nu", "Kunder som matchar nu",
                   "Kunder som treffer nå"),
    "sample": ("Sample", "Eksempler", "Exempel", "Eksempler"),
    "save": ("Save segment", "Gem segment", "Spara segment", "Lagre segment"),
    "edit_segment": ("Edit segment", "Ret segment", "Redigera segment", "Rediger segment"),
    "edit": ("Edit", "Ret", "Redigera", "Rediger"),
    "delete": ("Delete segment", "Slet segment", "Ta bort segment", "Slett segment"),
    "confirm_delete": ("Delete the segment {name}?", "Slet segmentet {name}?",
                       "Ta bort segmentet {name}?", "Slette segmentet {name}?"),
    "cannot_edit": (
        "This rule uses more than the form shows (activities, sequences, nested groups): "
        "edit it in segmint.yaml.",
        "Reglen bruger mere, end formularen viser (aktiviteter, sekvenser, grupper i grupper): "
        "ret den i segmint.yaml.",
        "Regeln använder mer än formuläret visar (aktiviteter, sekvenser, grupper i grupper): "
        "redigera den i segmint.yaml.",
        "Regelen bruker mer enn skjemaet viser (aktiviteter, sekvenser, grupper i grupper): "
        "rediger den i segmint.yaml.",
    ),
    "saved": ("Saved. The next run evaluates it.", "Gemt. Næste kørsel beregner det.",
              "Sparat. Nästa körning beräknar det.", "Lagret. Neste kjøring beregner det."),
    "yaml": ("Definition (YAML)", "Definition (YAML)", "Definition (YAML)", "Definisjon (YAML)"),
    "open_segment": ("Open the segment", "Åbn segmentet", "Öppna segmentet", "Åpne segmentet"),
    "profile": ("Profile", "Profil", "Profil", "Profil"),
    "size_over_time": ("Size over runs", "Størrelse over kørsler", "Storlek över körningar",
                       "Størrelse over kjøringer"),
    "members": ("Members", "Medlemmer", "Medlemmar", "Medlemmer"),
    "download_csv": ("Download members (CSV)", "Hent medlemmer (CSV)",
                     "Ladda ned medlemmar (CSV)", "Last ned medlemmer (CSV)"),
    "customer_id": ("Customer id", "Kunde-id", "Kund-id", "Kunde-id"),
    "search_members": ("Find a customer id", "Find et kunde-id", "Hitta ett kund-id",
                       "Finn en kunde-id"),
    "previous": ("Previous", "Forrige", "Föregående", "Forrige"),
    "next": ("Next", "Næste", "Nästa", "Neste"),
    "page_of": ("{first}–{last} of {total}", "{first}–{last} af {total}",
                "{first}–{last} av {total}", "{first}–{last} av {total}"),
    "open_customer": ("Open a customer", "Åbn en kunde", "Öppna en kund", "Åpne en kunde"),
    "open": ("Open", "Åbn", "Öppna", "Åpne"),
    "attributes": ("Attributes", "Attributter", "Attribut", "Attributter"),
    "traits": ("Traits and scores", "Egenskaber og scorer", "Egenskaper och poäng",
               "Egenskaper og scorer"),
    "history": ("History", "Historik", "Historik", "Historikk"),
    "event": ("Event", "Hændelse", "Händelse", "Hendelse"),
    "source": ("Source", "Kilde", "Källa", "Kilde"),
    "metrics": ("Metrics", "Nøgletal", "Nyckeltal", "Nøkkeltall"),
    "drivers": ("Drivers", "Drivere", "Drivkrafter", "Drivere"),
    "calibration": ("Calibration", "Kalibrering", "Kalibrering", "Kalibrering"),
    "no_models": ("No model cards yet: switch models on in segmint.yaml and run.",
                  "Ingen modelkort endnu: slå modeller til i segmint.yaml og kør.",
                  "Inga modellkort ännu: slå på modeller i segmint.yaml och kör.",
                  "Ingen modellkort ennå: slå på modeller i segmint.yaml og kjør."),
    "destinations": ("Destinations", "Destinationer", "Destinationer", "Destinasjoner"),
    "destination": ("Destination", "Destination", "Destination", "Destinasjon"),
    "trigger": ("Start export", "Start eksport", "Starta export", "Start eksport"),
    "new_export": ("Export a segment", "Eksporter et segment", "Exportera ett segment",
                   "Eksporter et segment"),
    "export_to": ("To", "Til", "Till", "Til"),
    "file_format": ("File ({format})", "Fil ({format})", "Fil ({format})", "Fil ({format})"),
    "mode": ("Mode", "Måde", "Läge", "Modus"),
    "mode_default": ("as the destination says", "som destinationen siger",
                     "som destinationen anger", "som destinasjonen sier"),
    "channels": ("Consent channels members must have (comma separated, e.g. email)",
                 "Samtykkekanaler, medlemmerne skal have (adskilt med komma, fx email)",
                 "Samtyckeskanaler medlemmarna måste ha (separerade med komma, t.ex. email)",
                 "Samtykkekanaler medlemmene må ha (skilt med komma, f.eks. email)"),
    "rows": ("Rows", "Rækker", "Rader", "Rader"),
    "jobs": ("Export jobs", "Eksportjob", "Exportjobb", "Eksportjobber"),
    "job": ("Job", "Job", "Jobb", "Jobb"),
    "created": ("Created", "Oprettet", "Skapad", "Opprettet"),
    "file": ("File", "Fil", "Fil", "Fil"),
    "download": ("Download", "Hent", "Ladda ned", "Last ned"),
    "audit": ("Audit log", "Revisionslog", "Granskningslogg", "Revisjonslogg"),
    "when": ("When", "Hvornår", "När", "Når"),
    "who": ("Who", "Hvem", "Vem", "Hvem"),
    "action": ("Action", "Handling", "Åtgärd", "Handling"),
    "details": ("Details", "Detaljer", "Detaljer", "Detaljer"),
    "none_yet": ("None yet.", "Ingen endnu.", "Inga ännu.", "Ingen ennå."),
    "not_found": ("Not found.", "Ikke fundet.", "Hittades inte.", "Ikke funnet."),
    "versus_base": ("Index vs all customers", "Indeks mod alle kunder",
                    "Index mot alla kunder", "Indeks mot alle kunder"),
}  # fmt: skip

#: report labels the pages use as they are
_REPORT_KEYS = (
    "customers", "revenue", "revenue_12m", "clv_total", "segments", "segment", "size",
    "share_customers", "share_revenue", "growth", "facts", "sales", "value", "facts_help",
    "sales_help", "value_help", "index", "distinguishing", "average", "index_short",
    "this_segment", "actual", "predicted", "churn_drivers", "clv_check", "nps", "respondents",
    "orders_before",
)  # fmt: skip


class UIWords:
    """One language's page labels: ``w["dashboard"]``, ``w.trait("spend_90d")``."""

    def __init__(self, lang: str) -> None:
        self.report: Words = words(lang)
        self.lang = self.report.lang
        self._i = LANGUAGES.index(self.lang)

    def __getitem__(self, key: str) -> str:
        if key in _UI:
            return _UI[key][self._i]
        return self.report[key]

    def fmt(self, key: str, **values: Any) -> str:
        return self[key].format(**values)

    def trait(self, name: str) -> str:
        return self.report.trait(name)

    def for_js(self) -> dict[str, Any]:
        """Every label and trait name of this language, for the pages' scripts."""
        labels = {k: v[self._i] for k, v in _UI.items()}
        labels.update({k: self.report[k] for k in _REPORT_KEYS})
        traits = {k: v[self._i] for k, v in trait_labels().items()}
        windowed = {k: v[self._i] for k, v in _WINDOWED.items()}
        return {
            "lang": self.lang,
            "labels": labels,
            "traits": traits,
            "windowed": windowed,
            "days": self.report["days"],
        }


def ui_words(lang: str | None) -> UIWords:
    """The labels of ``lang``; an unknown or missing language falls back to English."""
    return UIWords(lang if lang in LANGUAGES else "en")


def ui_keys() -> list[str]:
    """Every page label key (for tests: each has four non-empty translations)."""
    return list(_UI)


def ui_label(key: str) -> tuple[str, str, str, str]:
    return _UI[key]
