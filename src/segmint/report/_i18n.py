"""The report's words in English, Danish, Swedish and Norwegian (bokmål).

Written as a Nordic marketer says it: the seeds' vocabulary (FAKTA / SALG / VÆRDI,
"for smalt kundesegment", kundelivstidsværdi, churn) rather than a word-for-word
translation.  :func:`words` returns one language's labels; a trait without a label of its
own is shown by its name (``spend_90d`` -> "Spend (90 days)" from the window pattern).
"""

from __future__ import annotations

import re
from typing import Literal

Lang = Literal["en", "da", "sv", "nb"]
LANGUAGES: tuple[Lang, ...] = ("en", "da", "sv", "nb")

# key: (en, da, sv, nb)
_LABELS: dict[str, tuple[str, str, str, str]] = {
    "title": ("Customer segments", "Kundesegmenter", "Kundsegment", "Kundesegmenter"),
    "generated": (
        "Run {run} as of {as_of} · made {now}",
        "Kørsel {run} pr. {as_of} · dannet {now}",
        "Körning {run} per {as_of} · skapad {now}",
        "Kjøring {run} per {as_of} · laget {now}",
    ),
    "overview": ("Overview", "Overblik", "Översikt", "Oversikt"),
    "customers": ("Customers", "Kunder", "Kunder", "Kunder"),
    "revenue": ("Revenue to date", "Omsætning i alt", "Omsättning totalt", "Omsetning totalt"),
    "revenue_12m": (
        "Revenue, last 12 months",
        "Omsætning, seneste 12 måneder",
        "Omsättning, senaste 12 månaderna",
        "Omsetning, siste 12 måneder",
    ),
    "clv_total": (
        "Expected value, next 12 months (CLV)",
        "Forventet værdi, næste 12 måneder (CLV)",
        "Förväntat värde, kommande 12 månader (CLV)",
        "Forventet verdi, neste 12 måneder (CLV)",
    ),
    "segments": ("Segments", "Segmenter", "Segment", "Segmenter"),
    "segment": ("Segment", "Segment", "Segment", "Segment"),
    "size": ("Customers", "Kunder", "Kunder", "Kunder"),
    "share_customers": (
        "Share of customers",
        "Andel af kunderne",
        "Andel av kunderna",
        "Andel av kundene",
    ),
    "share_revenue": (
        "Share of revenue",
        "Andel af omsætningen",
        "Andel av omsättningen",
        "Andel av omsetningen",
    ),
    "share_clv": ("Share of CLV", "Andel af CLV", "Andel av CLV", "Andel av CLV"),
    "growth": (
        "Change since the previous run",
        "Ændring siden forrige kørsel",
        "Förändring sedan förra körningen",
        "Endring siden forrige kjøring",
    ),
    "sizes_values": (
        "Segment sizes and value",
        "Segmenternes størrelse og værdi",
        "Segmentens storlek och värde",
        "Segmentenes størrelse og verdi",
    ),
    "rfm": ("RFM grid", "RFM-matrix", "RFM-matris", "RFM-matrise"),
    "rfm_help": (
        "Customers by recency (R) and frequency (F) score; 5 is the best fifth.",
        "Kunder fordelt på seneste køb (R) og købsfrekvens (F); 5 er den bedste femtedel.",
        "Kunder fördelade på senaste köp (R) och köpfrekvens (F); 5 är den bästa femtedelen.",
        "Kunder fordelt på siste kjøp (R) og kjøpsfrekvens (F); 5 er den beste femtedelen.",
    ),
    "recency_score": (
        "R: bought recently (5 = most recently)",
        "R: seneste køb (5 = senest)",
        "R: senaste köp (5 = senast)",
        "R: siste kjøp (5 = senest)",
    ),
    "frequency_score": (
        "F: buys often (5 = most often)",
        "F: købsfrekvens (5 = oftest)",
        "F: köpfrekvens (5 = oftast)",
        "F: kjøpsfrekvens (5 = oftest)",
    ),
    "rfm_cells": (
        "Customers per RFM segment",
        "Kunder pr. RFM-segment",
        "Kunder per RFM-segment",
        "Kunder per RFM-segment",
    ),
    "clv_churn": (
        "Lifetime value and churn",
        "Livstidsværdi og churn",
        "Livstidsvärde och churn",
        "Livstidsverdi og churn",
    ),
    "clv_distribution": (
        "Customer lifetime value (CLV), next 12 months",
        "Kundelivstidsværdi (CLV), næste 12 måneder",
        "Kundens livstidsvärde (CLV), kommande 12 månader",
        "Kundens livstidsverdi (CLV), neste 12 måneder",
    ),
    "churn_distribution": (
        "Churn risk: probability of not buying again within the horizon",
        "Churn-risiko: sandsynlighed for ikke at købe igen i perioden",
        "Churnrisk: sannolikhet att inte köpa igen under perioden",
        "Churn-risiko: sannsynlighet for ikke å kjøpe igjen i perioden",
    ),
    "churn_drivers": (
        "What drives churn (drop in AUC when the driver is shuffled)",
        "Det, der driver churn (fald i AUC, når driveren blandes om)",
        "Det som driver churn (lägre AUC när faktorn blandas om)",
        "Det som driver churn (fall i AUC når driveren stokkes om)",
    ),
    "clv_check": (
        "CLV model check: orders in the holdout period per customer",
        "Kontrol af CLV-modellen: ordrer pr. kunde i testperioden",
        "Kontroll av CLV-modellen: order per kund under testperioden",
        "Kontroll av CLV-modellen: ordrer per kunde i testperioden",
    ),
    "orders_before": (
        "Orders before the holdout period",
        "Ordrer før testperioden",
        "Order före testperioden",
        "Ordrer før testperioden",
    ),
    "actual": ("Actual", "Faktisk", "Utfall", "Faktisk"),
    "predicted": ("Predicted", "Forventet", "Prognos", "Forventet"),
    "no_clv": (
        "CLV scores are not switched on (models.clv.enabled in segmint.yaml).",
        "CLV-scorer er ikke slået til (models.clv.enabled i segmint.yaml).",
        "CLV-poäng är inte påslagna (models.clv.enabled i segmint.yaml).",
        "CLV-scorer er ikke slått på (models.clv.enabled i segmint.yaml).",
    ),
    "no_churn": (
        "The churn model is not switched on (models.churn.enabled in segmint.yaml).",
        "Churn-modellen er ikke slået til (models.churn.enabled i segmint.yaml).",
        "Churnmodellen är inte påslagen (models.churn.enabled i segmint.yaml).",
        "Churn-modellen er ikke slått på (models.churn.enabled i segmint.yaml).",
    ),
    "cards": ("Segment cards", "Segmentkort", "Segmentkort", "Segmentkort"),
    "cards_help": (
        "Each card describes a segment on the canvas: FACTS, SALES and VALUE. "
        "Index 100 is the average customer; 200 means twice as much or twice as common.",
        "Hvert kort beskriver et segment på lærredet: FAKTA, SALG og VÆRDI. "
        "Indeks 100 er gennemsnitskunden; 200 betyder dobbelt så meget eller dobbelt så udbredt.",
        "Varje kort beskriver ett segment på duken: FAKTA, FÖRSÄLJNING och VÄRDE. "
        "Index 100 är genomsnittskunden; 200 betyder dubbelt så mycket eller dubbelt så vanligt.",
        "Hvert kort beskriver et segment på lerretet: FAKTA, SALG og VERDI. "
        "Indeks 100 er gjennomsnittskunden; 200 betyr dobbelt så mye eller dobbelt så vanlig.",
    ),
    "cards_by": ("Cards by {field}", "Kort pr. {field}", "Kort per {field}", "Kort per {field}"),
    "facts": ("FACTS", "FAKTA", "FAKTA", "FAKTA"),
    "sales": ("SALES", "SALG", "FÖRSÄLJNING", "SALG"),
    "value": ("VALUE", "VÆRDI", "VÄRDE", "VERDI"),
    "facts_help": ("Who they are", "Hvem de er", "Vilka de är", "Hvem de er"),
    "sales_help": (
        "What they buy, how much, how often and where",
        "Hvad de køber, hvor meget, hvor ofte og hvor",
        "Vad de köper, hur mycket, hur ofta och var",
        "Hva de kjøper, hvor mye, hvor ofte og hvor",
    ),
    "value_help": (
        "What they need and how they rate us",
        "Hvad de har brug for, og hvordan de oplever os",
        "Vad de behöver och hur de upplever oss",
        "Hva de trenger, og hvordan de opplever oss",
    ),
    "index": (
        "Index (100 = average customer)",
        "Indeks (100 = gennemsnitskunden)",
        "Index (100 = genomsnittskunden)",
        "Indeks (100 = gjennomsnittskunden)",
    ),
    "distinguishing": (
        "What sets them apart",
        "Det, der kendetegner dem",
        "Det som utmärker dem",
        "Dette kjennetegner dem",
    ),
    "respondents": ("Survey answers", "Svar i undersøgelsen", "Enkätsvar", "Svar i undersøkelsen"),
    "nps": ("NPS", "NPS", "NPS", "NPS"),
    "average": ("All customers", "Alle kunder", "Alla kunder", "Alle kunder"),
    "sizing": (
        "Market size and penetration",
        "Markedsstørrelse og penetration",
        "Marknadsstorlek och penetration",
        "Markedsstørrelse og penetrasjon",
    ),
    "sizing_help": (
        "How many {units} like each segment's customers exist in the market "
        "(by {keys}), how many of them are customers, and what is left to win.",
        "Hvor mange {units} der findes i markedet, som ligner segmentets kunder "
        "(efter {keys}), hvor mange af dem der er kunder, og hvor meget der er tilbage at vinde.",
        "Hur många {units} på marknaden som liknar segmentets kunder "
        "(efter {keys}), hur många av dem som är kunder och hur mycket som återstår att vinna.",
        "Hvor mange {units} i markedet som ligner segmentets kunder "
        "(etter {keys}), hvor mange av dem som er kunder, og hvor mye som gjenstår å vinne.",
    ),
    "households": ("households", "husstande", "hushåll", "husstander"),
    "companies": ("companies", "virksomheder", "företag", "virksomheter"),
    "market": (
        "Market like these",
        "Lignende i markedet",
        "Liknande på marknaden",
        "Tilsvarende i markedet",
    ),
    "penetration": ("Penetration", "Penetration", "Penetration", "Penetrasjon"),
    "headroom": (
        "Headroom (not yet customers)",
        "Uudnyttet potentiale (endnu ikke kunder)",
        "Outnyttjad potential (ännu inte kunder)",
        "Uutnyttet potensial (ennå ikke kunder)",
    ),
    "market_share": (
        "Share of the market",
        "Andel af markedet",
        "Andel av marknaden",
        "Andel av markedet",
    ),
    "narrow": ("Too narrow", "For smalt", "För smalt", "For smalt"),
    "narrow_help": (
        "Too narrow: a market under {share} of the whole market, or fewer than {n} customers.",
        "For smalt: et marked under {share} af hele markedet eller færre end {n} kunder.",
        "För smalt: en marknad under {share} av hela marknaden eller färre än {n} kunder.",
        "For smalt: et marked under {share} av hele markedet eller færre enn {n} kunder.",
    ),
    "no_market": (
        "No market table is set up (profiles.market in segmint.yaml).",
        "Der er ikke sat en markedstabel op (profiles.market i segmint.yaml).",
        "Ingen marknadstabell är inställd (profiles.market i segmint.yaml).",
        "Det er ikke satt opp en markedstabell (profiles.market i segmint.yaml).",
    ),
    "transitions": (
        "Movement between segments",
        "Bevægelser mellem segmenter",
        "Rörelser mellan segment",
        "Bevegelser mellom segmenter",
    ),
    "transitions_help": (
        "Customers from run {a} (left) to run {b} (right).",
        "Kunder fra kørsel {a} (venstre) til kørsel {b} (højre).",
        "Kunder från körning {a} (vänster) till körning {b} (höger).",
        "Kunder fra kjøring {a} (venstre) til kjøring {b} (høyre).",
    ),
    "need_two_runs": (
        "Movement needs two runs with stored snapshots: run 'segmint run' again later.",
        "Bevægelser kræver to kørsler med gemte øjebliksbilleder: kør 'segmint run' igen senere.",
        "Rörelser kräver två körningar med sparade ögonblicksbilder: kör 'segmint run' igen "
        "senare.",
        "Bevegelser krever to kjøringer med lagrede øyeblikksbilder: kjør 'segmint run' igjen "
        "senere.",
    ),
    "none": ("(none)", "(uden segment)", "(utan segment)", "(uten segment)"),
    "rfm_family": ("RFM segments", "RFM-segmenter", "RFM-segment", "RFM-segmenter"),
    "lifecycle_family": (
        "Lifecycle stages",
        "Livscyklusfaser",
        "Livscykelfaser",
        "Livssyklusfaser",
    ),
    "tiers_family": ("Value tiers", "Værdiniveauer", "Värdenivåer", "Verdinivåer"),
    "yes": ("share yes", "andel ja", "andel ja", "andel ja"),
    "field": ("Trait", "Egenskab", "Egenskap", "Egenskap"),
    "this_segment": ("Segment", "Segment", "Segment", "Segment"),
    "index_short": ("Index", "Indeks", "Index", "Indeks"),
    "days": ("days", "dage", "dagar", "dager"),
}

# trait name -> (en, da, sv, nb)
_TRAITS: dict[str, tuple[str, str, str, str]] = {
    "recency_days": (
        "Days since last order", "Dage siden seneste ordre", "Dagar sedan senaste order",
        "Dager siden siste ordre",
    ),
    "frequency": ("Orders", "Ordrer", "Order", "Ordrer"),
    "monetary": ("Spend to date", "Køb i alt", "Köp totalt", "Kjøp totalt"),
    "avg_order_value": (
        "Average order value", "Gennemsnitlig ordreværdi", "Genomsnittligt ordervärde",
        "Gjennomsnittlig ordreverdi",
    ),
    "tenure_days": ("Days as customer", "Dage som kunde", "Dagar som kund", "Dager som kunde"),
    "mean_interpurchase_days": (
        "Days between orders", "Dage mellem ordrer", "Dagar mellan order", "Dager mellom ordrer",
    ),
    "age": ("Age", "Alder", "Ålder", "Alder"),
    "age_band": ("Age group", "Aldersgruppe", "Åldersgrupp", "Aldersgruppe"),
    "gender": ("Gender", "Køn", "Kön", "Kjønn"),
    "country": ("Country", "Land", "Land", "Land"),
    "region": ("Region", "Region", "Region", "Region"),
    "customer_type": ("Customer type", "Kundetype", "Kundtyp", "Kundetype"),
    "nace_code": ("Industry (NACE)", "Branche (NACE)", "Bransch (SNI/NACE)", "Bransje (NACE)"),
    "size_band": ("Employees", "Antal ansatte", "Antal anställda", "Antall ansatte"),
    "employees": ("Employees", "Antal ansatte", "Antal anställda", "Antall ansatte"),
    "revenue": ("Company revenue", "Virksomhedens omsætning", "Företagets omsättning",
                "Virksomhetens omsetning"),
    "top_category": ("Buys mostly", "Køber mest", "Köper mest", "Kjøper mest"),
    "top_channel": ("Buys mostly via", "Køber mest via", "Köper mest via", "Kjøper mest via"),
    "top_device": ("Mostly on", "Mest på", "Mest på", "Mest på"),
    "top_source": ("Comes mostly from", "Kommer mest fra", "Kommer mest från", "Kommer mest fra"),
    "distinct_categories": (
        "Categories bought", "Kategorier købt", "Kategorier köpta", "Kategorier kjøpt",
    ),
    "distinct_channels": (
        "Channels ordered in", "Kanaler handlet i", "Kanaler handlat i", "Kanaler handlet i",
    ),
    "spend_share_top_category": (
        "Share of spend in top category", "Andel af køb i topkategorien",
        "Andel av köpen i toppkategorin", "Andel av kjøpene i toppkategorien",
    ),
    "clv": ("CLV, next 12 months", "CLV, næste 12 måneder", "CLV, kommande 12 månader",
            "CLV, neste 12 måneder"),
    "p_alive": ("Still active (probability)", "Stadig aktiv (sandsynlighed)",
                "Fortfarande aktiv (sannolikhet)", "Fortsatt aktiv (sannsynlighet)"),
    "expected_orders": ("Expected orders", "Forventede ordrer", "Förväntade order",
                        "Forventede ordrer"),
    "expected_order_value": ("Expected order value", "Forventet ordreværdi",
                             "Förväntat ordervärde", "Forventet ordreverdi"),
    "churn_probability": ("Churn risk", "Churn-risiko", "Churnrisk", "Churn-risiko"),
    "nps_last": ("Latest NPS answer", "Seneste NPS-svar", "Senaste NPS-svar", "Siste NPS-svar"),
    "open_rate_90d": ("Email open rate (90 days)", "Åbningsrate på e-mail (90 dage)",
                      "Öppningsgrad för e-post (90 dagar)", "Åpningsrate på e-post (90 dager)"),
    "subscription_active": ("Has a subscription", "Har abonnement", "Har prenumeration",
                            "Har abonnement"),
    "subscription_monthly_amount": ("Subscription per month", "Abonnement pr. måned",
                                    "Prenumeration per månad", "Abonnement per måned"),
    "consent_email": ("Email consent", "Samtykke til e-mail", "Samtycke till e-post",
                      "Samtykke til e-post"),
    "consent_sms": ("SMS consent", "Samtykke til sms", "Samtycke till sms", "Samtykke til sms"),
    "consent_profiling": ("Profiling consent", "Samtykke til profilering",
                          "Samtycke till profilering", "Samtykke til profilering"),
    "lifecycle_stage": ("Lifecycle stage", "Livscyklusfase", "Livscykelfas", "Livssyklusfase"),
    "value_tier": ("Value tier", "Værdiniveau", "Värdenivå", "Verdinivå"),
    "value_decile": ("Value decile", "Værdidecil", "Värdedecil", "Verdidesil"),
    "rfm_cell": ("RFM segment", "RFM-segment", "RFM-segment", "RFM-segment"),
    "r": ("R score", "R-score", "R-poäng", "R-score"),
    "f": ("F score", "F-score", "F-poäng", "F-score"),
    "m": ("M score", "M-score", "M-poäng", "M-score"),
    "last_deal_days": ("Days since the last deal", "Dage siden seneste handel",
                       "Dagar sedan senaste affären", "Dager siden siste avtale"),
    "lead_score": ("Lead score", "Leadscore", "Leadpoäng", "Leadscore"),
    "cluster": ("Behavioural cluster", "Adfærdsklynge", "Beteendekluster", "Atferdsklynge"),
    "cluster_name": ("Behavioural cluster", "Adfærdsklynge", "Beteendekluster",
                     "Atferdsklynge"),
    "macro_segment": ("Needs segment", "Behovssegment", "Behovssegment", "Behovssegment"),
    "macro_probability": ("Needs segment (probability)", "Behovssegment (sandsynlighed)",
                          "Behovssegment (sannolikhet)", "Behovssegment (sannsynlighet)"),
    "q_price": ("Price matters", "Pris betyder noget", "Priset spelar roll", "Pris betyr noe"),
    "q_quality": ("Quality matters", "Kvalitet betyder noget", "Kvalitet spelar roll",
                  "Kvalitet betyr noe"),
    "q_sustainability": ("Sustainability matters", "Bæredygtighed betyder noget",
                         "Hållbarhet spelar roll", "Bærekraft betyr noe"),
    "q_convenience": ("Convenience matters", "Bekvemmelighed betyder noget",
                      "Bekvämlighet spelar roll", "Bekvemmelighet betyr noe"),
    "q_service": ("Service matters", "Service betyder noget", "Service spelar roll",
                  "Service betyr noe"),
    "q_brand": ("The brand matters", "Brandet betyder noget", "Varumärket spelar roll",
                "Merkevaren betyr noe"),
    "q_online": ("Prefers buying online", "Foretrækker at handle online",
                 "Föredrar att handla på nätet", "Foretrekker å handle på nett"),
    "q_local": ("Prefers local shops", "Foretrækker lokale butikker",
                "Föredrar lokala butiker", "Foretrekker lokale butikker"),
}  # fmt: skip

# window family -> (en, da, sv, nb)
_WINDOWED: dict[str, tuple[str, str, str, str]] = {
    "orders": ("Orders", "Ordrer", "Order", "Ordrer"),
    "spend": ("Spend", "Køb", "Köp", "Kjøp"),
    "email_sends": ("Emails received", "Modtagne e-mails", "Mottagna e-postutskick",
                    "Mottatte e-poster"),
    "email_opens": ("Email opens", "Åbnede e-mails", "Öppnade e-postutskick",
                    "Åpnede e-poster"),
    "email_clicks": ("Email clicks", "Klik i e-mails", "Klick i e-post", "Klikk i e-post"),
    "web_visits": ("Web visits", "Besøg på websitet", "Webbesök", "Besøk på nettsiden"),
    "service_tickets": ("Service requests", "Henvendelser til kundeservice",
                        "Ärenden till kundtjänst", "Henvendelser til kundeservice"),
    "deals_won": ("Deals won", "Vundne handler", "Vunna affärer", "Vunne avtaler"),
    "deals_lost": ("Deals lost", "Tabte handler", "Förlorade affärer", "Tapte avtaler"),
}  # fmt: skip

_WINDOW = re.compile(r"^(?P<family>.+)_(?P<n>\d+)d$")


class Words:
    """One language's labels: ``w["title"]``, ``w.trait("spend_90d")``."""

    def __init__(self, lang: Lang) -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"language {lang!r}: use one of {', '.join(LANGUAGES)}")
        self.lang = lang
        self._i = LANGUAGES.index(lang)

    def __getitem__(self, key: str) -> str:
        return _LABELS[key][self._i]

    def trait(self, name: str) -> str:
        if name in _TRAITS:
            return _TRAITS[name][self._i]
        m = _WINDOW.match(name)
        if m and m.group("family") in _WINDOWED:
            return f"{_WINDOWED[m.group('family')][self._i]} ({m.group('n')} {self['days']})"
        if name.startswith("propensity_"):
            return f"P({name.removeprefix('propensity_')})"
        return name


def words(lang: str) -> Words:
    """The labels of ``lang`` (en, da, sv or nb)."""
    return Words(lang)  # type: ignore[arg-type]


def label_keys() -> list[str]:
    """Every label key (for tests: each has four non-empty translations)."""
    return list(_LABELS)


def trait_labels() -> dict[str, tuple[str, str, str, str]]:
    return dict(_TRAITS)
