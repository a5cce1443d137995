"""The synonym table: per entity and field, the column headers segmint recognises.

English, Danish, Swedish, Norwegian, a little Finnish, and the names common shop, ERP, CRM
and email systems use. Headers are compared after folding case, Nordic letters and
punctuation (see :func:`segmint.ingest._mapping.normalise_header`), so one spelling per
header is enough. Data only; the matching lives in ``_mapping``.
"""

from __future__ import annotations

# ----------------------------------------------------------------------- the synonyms
# Shared spellings, reused where the same thing appears in several tables.
# fmt: off
_CUSTOMER_ID = [
    "Kundenummer", "Kundnummer", "Kundenr", "Kundnr", "Kunde-id", "Kund-ID", "Customer ID",
    "CustomerNo", "Customer number", "Debitor", "Debitornummer", "Debitornr", "Client ID",
    "Medlemsnummer", "Medlemsnr", "Asiakasnumero",
]
_FIRST_NAME = ["Fornavn", "Förnamn", "First name", "Firstname", "Given name", "Etunimi"]
_LAST_NAME = [
    "Efternavn", "Efternamn", "Etternavn", "Last name", "Lastname", "Surname", "Family name",
    "Sukunimi",
]
_EMAIL = [
    "E-mail", "E-post", "Mail", "Email address", "E-mailadresse", "E-postadress",
    "E-postadresse", "Mailadresse", "Sähköposti",
]
_PHONE = [
    "Telefon", "Mobil", "Tlf", "Tlf nr", "Telefonnummer", "Mobilnummer", "Mobiltelefon",
    "Mobilnr", "Telefonnr", "Phone number", "Mobile", "Mobile phone", "Telephone", "Tel",
    "Puhelin",
]
_CAMPAIGN_ID = [
    "Kampagne-id", "Kampanj-id", "Kampanje-id", "Kampagne", "Kampanj", "Kampanje",
    "Campaign", "Campaign ID", "Kampagnenummer", "utm_campaign",
]
_OWNER = [
    "Sælger", "Säljare", "Selger", "Ansvarlig", "Ansvarig", "Kundeansvarlig",
    "Kundansvarig", "Account owner", "Sales rep", "Salesperson",
]
_CREATED = [
    "Oprettet", "Oprettelsesdato", "Opprettet", "Skapad", "Skapat", "Created", "Created at",
    "Created date",
]
_START = ["Startdato", "Startdatum", "Start", "Start date", "Fra dato", "Från datum"]
_END = ["Slutdato", "Slutdatum", "Sluttdato", "End", "End date", "Til dato", "Till datum"]
_CHANNEL = ["Kanal", "Salgskanal", "Säljkanal", "Sales channel"]
_SOURCE = ["Kilde", "Källa", "utm_source", "Traffic source", "Trafikkilde", "Trafikkälla"]
_AMOUNT = ["Beløb", "Belopp", "Beløp"]
_VALUE = ["Værdi", "Värde", "Verdi", "Value"]

SYNONYMS: dict[str, dict[str, list[str]]] = {
    "customers": {
        "customer_id": _CUSTOMER_ID,
        "customer_type": ["Kundetype", "Kundtyp", "Customer type", "Asiakastyyppi"],
        "first_name": _FIRST_NAME,
        "last_name": _LAST_NAME,
        "company_name": [
            "Virksomhed", "Firma", "Företag", "Bedrift", "Company", "Company name",
            "Firmanavn", "Virksomhedsnavn", "Företagsnamn", "Bedriftsnavn", "Organisation",
            "Organization", "Account name", "Yritys",
        ],
        "email": _EMAIL,
        "phone": _PHONE,
        "birth_date": [
            "Fødselsdato", "Födelsedatum", "Date of birth", "Birthday", "Birthdate", "DOB",
            "Fødselsdag", "Syntymäaika",
        ],
        "gender": ["Køn", "Kön", "Kjønn", "Sex", "Sukupuoli"],
        "address": [
            "Adresse", "Adress", "Gadeadresse", "Gatuadress", "Gateadresse", "Street",
            "Street address", "Address1", "Osoite",
        ],
        "postal_code": ["Postnummer", "Postnr", "Zip", "Zip code", "Postcode", "Postinumero"],
        "city": [
            "By", "Ort", "Poststed", "Postort", "Postdistrikt", "Town", "Stad",
            "Postitoimipaikka",
        ],
        "region": ["Län", "Fylke", "Landsdel", "Province", "State", "Maakunta"],
        "country": ["Land", "Country code", "Landekode", "Landskod", "Landkode", "Maa"],
        "household_id": ["Husstand", "Hushåll", "Husholdning", "Household", "Husstands-id"],
        "signup_date": [
            "Oprettet", "Oprettelsesdato", "Kunde siden", "Kund sedan", "Skapad", "Registrert",
            "Registreret", "Registrerad", "Registreringsdato", "Created at", "Created",
            "Member since", "Medlem siden", "Medlem sedan", "Opprettet",
        ],
        "org_number": [
            "CVR", "CVR-nummer", "CVR-nr", "Orgnr", "Organisationsnummer",
            "Organisasjonsnummer", "VAT", "VAT number", "VAT no", "Momsnummer", "SE-nummer",
            "Foretaksnummer", "Org number", "Organisation number", "Organization number",
            "Y-tunnus",
        ],
        "personal_number": [
            "CPR", "CPR-nummer", "CPR-nr", "Personnummer", "Personnr", "Fødselsnummer",
            "Personal number", "Henkilötunnus", "Hetu",
        ],
        "nace_code": [
            "Branchekode", "Bransch", "Branche", "Bransje", "Bransjekode", "Branschkod",
            "SNI", "SNI-kod", "NACE", "NACE-kode", "Næringskode", "Industry",
            "Industry code", "DB07", "Toimiala",
        ],
        "employees": [
            "Antal ansatte", "Ansatte", "Antal anställda", "Anställda", "Antall ansatte",
            "Number of employees", "Employee count", "Medarbejdere", "Antal medarbejdere",
            "Headcount", "Henkilöstö",
        ],
        "revenue": [
            "Omsætning", "Omsättning", "Omsetning", "Turnover", "Annual revenue", "Liikevaihto",
        ],
        "owner": _OWNER,
    },
    "contacts": {
        "contact_id": [
            "Kontakt-id", "Kontaktnummer", "Kontaktnr", "Contact ID", "Kontaktperson-id",
        ],
        # a contact's customer number is the number of the company the contact works at
        "company_id": [
            "customer_id", *_CUSTOMER_ID, "Firma-id", "Virksomheds-id", "Företags-id",
            "Bedrifts-id", "Company ID", "Account ID",
        ],
        "first_name": _FIRST_NAME,
        "last_name": _LAST_NAME,
        "email": _EMAIL,
        "phone": _PHONE,
        "title": [
            "Titel", "Stilling", "Befattning", "Tittel", "Job title", "Jobtitel",
            "Stillingsbetegnelse", "Position",
        ],
        "department": ["Afdeling", "Avdelning", "Avdeling", "Dept"],
    },
    "transactions": {
        "order_id": [
            "Ordrenummer", "Ordrenr", "Ordernummer", "Ordernr", "Order ID", "Order number",
            "Order no", "Fakturanummer", "Fakturanr", "Invoice number", "Invoice no",
            "Kvitteringsnummer", "Kvittonummer", "Bonnummer", "Transaction ID",
            "Transaktions-id",
        ],
        "line_no": [
            "Linje", "Linjenr", "Linjenummer", "Rad", "Radnummer", "Radnr", "Line",
            "Line number",
        ],
        "customer_id": _CUSTOMER_ID,
        "order_date": [
            "Dato", "Datum", "Ordredato", "Orderdatum", "Date", "Order date", "Fakturadato",
            "Fakturadatum", "Købsdato", "Köpdatum", "Kjøpsdato", "Transaktionsdato",
            "Transaktionsdatum", "Tidspunkt", "Created at",
        ],
        "product_id": [
            "Varenummer", "Artikelnummer", "Varenr", "Artikelnr", "SKU", "Product ID",
            "Item number", "Item no", "Produktnummer", "Produkt-id", "Lineitem sku",
        ],
        "product_name": [
            "Varenavn", "Produkt", "Artikel", "Produktnavn", "Produktnamn", "Product",
            "Item", "Item name", "Vare", "Varebetegnelse", "Benämning", "Lineitem name",
        ],
        "category": [
            "Kategori", "Varegruppe", "Varugrupp", "Produktkategori", "Product category",
            "Product type", "Produktgruppe", "Produktgrupp",
        ],
        "quantity": [
            "Antal", "Antall", "Mængde", "Kvantitet", "Qty", "Mengde", "Mängd", "Stk",
            "Antal stk", "Units", "Lineitem quantity",
        ],
        "amount": [
            *_AMOUNT, "Belopp inkl moms", "Beløb inkl. moms", "Beløp inkl. mva", "Pris",
            "Total", "Totalt", "Sum", "Linjetotal", "Line total", "Price", "Amount incl VAT",
        ],
        "currency": ["Valuta", "Currency code", "Valutakode", "Valutakod"],
        "channel": _CHANNEL,
        "store_id": [
            "Butik", "Butikk", "Store", "Butiksnummer", "Butiksnr", "Butikknummer",
            "Store number", "Shop",
        ],
    },
    "events": {
        "event_id": ["Hændelses-id", "Händelse-id", "Hendelses-id"],
        "customer_id": _CUSTOMER_ID,
        "event_time": [
            "Tidpunkt", "Tidspunkt", "Tid", "Timestamp", "Time", "Tidsstempel", "Tidsstämpel",
            "Datetime", "Dato", "Datum", "Date", "Occurred at",
        ],
        "event_type": [
            "Händelse", "Hændelse", "Hendelse", "Type", "Event", "Hændelsestype",
            "Händelsetyp", "Hendelsestype", "Aktivitet", "Activity", "Action",
        ],
        "channel": _CHANNEL,
        "campaign_id": _CAMPAIGN_ID,
        "source": _SOURCE,
        "device": ["Enhet", "Enhed", "Device type", "Enhedstype", "Enhetstyp"],
        "url": ["Side", "Sida", "Page", "Page URL", "Link", "Länk", "Lenke"],
    },
    "subscriptions": {
        "subscription_id": [
            "Abonnement-id", "Abonnementsnummer", "Abonnemang-id", "Abonnemangsnummer",
            "Aftalenummer", "Avtalsnummer", "Avtalenummer",
        ],
        "customer_id": _CUSTOMER_ID,
        "product": ["Abonnement", "Abonnemang", "Produkt", "Plan", "Abonnementstype"],
        "start_date": _START,
        "end_date": [*_END, "Opsagt", "Opsigelsesdato", "Uppsägningsdatum", "Oppsagt"],
        "status": ["Tilstand", "Tila"],
        "monthly_amount": [
            "Månedsbeløb", "Månadsbelopp", "Månedsbeløp", "Månedspris", "Månadspris",
            "Monthly amount", "Monthly price", "MRR", "Pris", *_AMOUNT,
        ],
    },
    "survey_responses": {
        "response_id": ["Svar-id", "Besvarelses-id", "Svarnummer"],
        "customer_id": _CUSTOMER_ID,
        "survey_id": [
            "Undersøgelse", "Undersökning", "Undersøkelse", "Survey", "Spørgeskema", "Enkät",
            "Spørreskjema", "Survey name",
        ],
        "response_date": [
            "Dato", "Datum", "Svardato", "Svarsdatum", "Besvarelsesdato", "Date", "Tidspunkt",
        ],
        "nps": ["Anbefaling", "Rekommendation", "NPS score", "Likelihood to recommend"],
    },
    "consents": {
        "customer_id": _CUSTOMER_ID,
        "channel": ["Kanal"],
        "granted": [
            "Samtykke", "Samtykke givet", "Samtykke gitt", "Samtycke", "Godkänt", "Godkendt",
            "Consent", "Opt-in", "Tilladelse", "Tillatelse", "Permission",
        ],
        "consent_time": [
            "Tidspunkt", "Tidpunkt", "Tid", "Dato", "Datum", "Date", "Timestamp",
            "Samtykkedato", "Samtyckesdatum", "Optin time",
        ],
        "source": ["Kilde", "Källa"],
    },
    "campaigns": {
        "campaign_id": _CAMPAIGN_ID,
        "name": ["Navn", "Namn", "Kampagnenavn", "Kampanjnamn", "Kampanjenavn", "Campaign name"],
        "channel": ["Kanal"],
        "start_date": _START,
        "end_date": _END,
        "description": ["Beskrivelse", "Beskrivning"],
    },
    "campaign_contacts": {
        "campaign_id": _CAMPAIGN_ID,
        "customer_id": _CUSTOMER_ID,
        "arm": ["Gruppe", "Grupp", "Group", "Testgruppe", "Testgrupp", "Variant"],
        "contact_date": [
            "Dato", "Datum", "Kontaktdato", "Kontaktdatum", "Sendt", "Skickad", "Sent",
            "Send date", "Udsendelsesdato",
        ],
        "responded": [
            "Svarede", "Svarade", "Svarte", "Respons", "Response", "Konverteret",
            "Konverterade", "Konvertert", "Converted",
        ],
        "response_value": [
            "Responsværdi", "Svarsvärde", "Responsverdi", *_VALUE, *_AMOUNT,
        ],
    },
    "deals": {
        "deal_id": [
            "Salgsmulighed", "Salgsmulighet", "Affär", "Affärs-id", "Salgsmulighed-id",
            "Opportunity", "Opportunity ID", "Deal",
        ],
        "customer_id": [*_CUSTOMER_ID, "Account ID"],
        "created_date": _CREATED,
        "closed_date": [
            "Lukket", "Lukkedato", "Stängd", "Stängningsdatum", "Avsluttet", "Afsluttet",
            "Avslutad", "Close date", "Closed date", "Closed at",
        ],
        "stage": ["Fase", "Stadie", "Status", "Stadium", "Fas", "Steg", "Deal stage"],
        "amount": [*_AMOUNT, *_VALUE, "Deal value"],
        "product": ["Produkt"],
        "owner": [*_OWNER, "Deal owner"],
    },
}
# fmt: on
