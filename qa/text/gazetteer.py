"""Places by kind: the world's countries with their demonyms, and the states of the US.

A "which country" question is often answered in the article by an adjective ("the Ukrainian
president"); a question that says "Ukrainian" already names Ukraine, one that says "the US" the
United States. A "which state" question
wants a state, not one of the cities an entity recogniser also labels GPE. General tables of
the world's countries and of US states, not lists fitted to questions.
"""

from __future__ import annotations

import re

from qa.text.normalize import normalize, words

_TABLE = """
Afghanistan: Afghan | Albania: Albanian | Algeria: Algerian | Andorra: Andorran | Angola: Angolan
Argentina: Argentine, Argentinian | Armenia: Armenian | Australia: Australian | Austria: Austrian
Azerbaijan: Azerbaijani | Bahamas: Bahamian | Bahrain: Bahraini | Bangladesh: Bangladeshi
Barbados: Barbadian | Belarus: Belarusian | Belgium: Belgian | Belize: Belizean | Benin: Beninese
Bhutan: Bhutanese | Bolivia: Bolivian | Bosnia: Bosnian | Botswana: Botswanan | Brazil: Brazilian
Brunei: Bruneian | Bulgaria: Bulgarian | Burkina Faso: Burkinabe | Burundi: Burundian
Cambodia: Cambodian | Cameroon: Cameroonian | Canada: Canadian | Chad: Chadian | Chile: Chilean
China: Chinese | Colombia: Colombian | Congo: Congolese | Costa Rica: Costa Rican
Croatia: Croatian | Cuba: Cuban | Cyprus: Cypriot | Czech Republic: Czech | Denmark: Danish, Dane
Djibouti: Djiboutian | Dominican Republic: Dominican | Ecuador: Ecuadorian | Egypt: Egyptian
El Salvador: Salvadoran | Eritrea: Eritrean | Estonia: Estonian | Ethiopia: Ethiopian
Fiji: Fijian | Finland: Finnish, Finn | France: French | Gabon: Gabonese | Gambia: Gambian
Georgia: Georgian | Germany: German | Ghana: Ghanaian | Greece: Greek | Guatemala: Guatemalan
Guinea: Guinean | Guyana: Guyanese | Haiti: Haitian | Honduras: Honduran | Hungary: Hungarian
Iceland: Icelandic, Icelander | India: Indian | Indonesia: Indonesian | Iran: Iranian
Iraq: Iraqi | Ireland: Irish | Israel: Israeli | Italy: Italian | Ivory Coast: Ivorian
Jamaica: Jamaican | Japan: Japanese | Jordan: Jordanian | Kazakhstan: Kazakh | Kenya: Kenyan
Kosovo: Kosovar | Kuwait: Kuwaiti | Kyrgyzstan: Kyrgyz | Laos: Laotian | Latvia: Latvian
Lebanon: Lebanese | Liberia: Liberian | Libya: Libyan | Lithuania: Lithuanian
Luxembourg: Luxembourgish | Madagascar: Malagasy | Malawi: Malawian | Malaysia: Malaysian
Maldives: Maldivian | Mali: Malian | Malta: Maltese | Mauritania: Mauritanian
Mauritius: Mauritian | Mexico: Mexican | Moldova: Moldovan | Monaco: Monegasque
Mongolia: Mongolian | Montenegro: Montenegrin | Morocco: Moroccan | Mozambique: Mozambican
Myanmar: Burmese | Namibia: Namibian | Nepal: Nepali, Nepalese | Netherlands: Dutch
New Zealand: New Zealander | Nicaragua: Nicaraguan | Niger: Nigerien | Nigeria: Nigerian
North Korea: North Korean | North Macedonia: Macedonian | Norway: Norwegian | Oman: Omani
Pakistan: Pakistani | Palestine: Palestinian | Panama: Panamanian | Papua New Guinea: Papua New Guinean
Paraguay: Paraguayan | Peru: Peruvian | Philippines: Filipino, Philippine | Poland: Polish, Pole
Portugal: Portuguese | Qatar: Qatari | Romania: Romanian | Russia: Russian | Rwanda: Rwandan
Samoa: Samoan | Saudi Arabia: Saudi | Senegal: Senegalese | Serbia: Serbian, Serb
Sierra Leone: Sierra Leonean | Singapore: Singaporean | Slovakia: Slovak | Slovenia: Slovenian
Somalia: Somali | South Africa: South African | South Korea: South Korean, Korean
South Sudan: South Sudanese | Spain: Spanish, Spaniard | Sri Lanka: Sri Lankan | Sudan: Sudanese
Suriname: Surinamese | Sweden: Swedish, Swede | Switzerland: Swiss | Syria: Syrian
Taiwan: Taiwanese | Tajikistan: Tajik | Tanzania: Tanzanian | Thailand: Thai | Togo: Togolese
Tonga: Tongan | Trinidad and Tobago: Trinidadian | Tunisia: Tunisian | Turkey: Turkish, Turk
Turkmenistan: Turkmen | Uganda: Ugandan | Ukraine: Ukrainian | United Arab Emirates: Emirati
United Kingdom: British, Briton | United States: American | Uruguay: Uruguayan
Uzbekistan: Uzbek | Venezuela: Venezuelan | Vietnam: Vietnamese | Yemen: Yemeni
Zambia: Zambian | Zimbabwe: Zimbabwean | England: English | Scotland: Scottish, Scot
Wales: Welsh | Greenland: Greenlandic, Greenlander | Puerto Rico: Puerto Rican
"""
# Regions with demonyms of their own: named by a question, never a country ("which country").
_REGIONS = """
Europe: European | Africa: African | Asia: Asian | Latin America: Latin American
North America: North American | South America: South American | Central America: Central American
"""


def _parse(table: str) -> dict[str, str]:
    countries: dict[str, str] = {}
    for entry in table.replace("\n", "|").split("|"):
        if not entry.strip():
            continue
        country, demonyms = entry.split(":")
        for demonym in demonyms.split(","):
            name = normalize(demonym)
            countries[name] = country.strip()
            countries[name + "s"] = country.strip()  # "Ukrainians", "Americans"
    return countries


_DEMONYM_COUNTRY = _parse(_TABLE)
COUNTRY_OF = _DEMONYM_COUNTRY | _parse(_REGIONS)
# Short names news writes for countries. Abbreviations are read in capitals only: "us" is a
# pronoun (a question written all in capitals is read as it stands).
_ALIASES = {
    "United States": ("U.S.", "US", "USA", "U.S.A.", "America"),
    "United Kingdom": ("UK", "U.K.", "Britain", "Great Britain"),
    "United Arab Emirates": ("UAE", "U.A.E."),
}
_ALIAS_OF = {alias: country for country, aliases in _ALIASES.items() for alias in aliases}
_ALIAS = re.compile(
    r"(?<![\w.])(" + "|".join(re.escape(a) for a in sorted(_ALIAS_OF, key=len, reverse=True)) + r")(?![\w])"
)
_CONTINENT_PARTS = frozenset({"latin", "north", "south", "central"})  # "South America" is not the US
COUNTRIES = frozenset(normalize(c) for c in _DEMONYM_COUNTRY.values()) | frozenset(map(normalize, _ALIAS_OF))
_STATES = """Alabama Alaska Arizona Arkansas California Colorado Connecticut Delaware Florida Georgia
Hawaii Idaho Illinois Indiana Iowa Kansas Kentucky Louisiana Maine Maryland Massachusetts Michigan
Minnesota Mississippi Missouri Montana Nebraska Nevada New_Hampshire New_Jersey New_Mexico New_York
North_Carolina North_Dakota Ohio Oklahoma Oregon Pennsylvania Rhode_Island South_Carolina
South_Dakota Tennessee Texas Utah Vermont Virginia Washington West_Virginia Wisconsin Wyoming"""
US_STATES = frozenset(normalize(state.replace("_", " ")) for state in _STATES.split())


def place_kind(name: str) -> str:
    """ "country", "state" (of the US) or "place" (a city, region or anything else)."""
    key = normalize(name)
    if key in COUNTRIES:
        return "country"
    if key in US_STATES:
        return "state"
    return "place"


def country_of(phrase: str) -> str | None:
    """The country a demonym or adjective names: "Ukrainian" -> "Ukraine"; else None."""
    return COUNTRY_OF.get(normalize(phrase))


def countries_named(text: str) -> set[str]:
    """The countries a text names by a demonym or a short name: "the US" and "American
    voters" both name the United States. The longest demonym is read first: "North Koreans" is
    North Korea ("Korean" alone is South Korea), "Latin American" Latin America, not the US."""
    tokens, found, i = words(text), set[str](), 0
    while i < len(tokens):
        for n in (3, 2, 1):
            if i + n <= len(tokens) and (country := country_of(" ".join(tokens[i : i + n]))):
                found.add(country)
                i += n
                break
        else:
            i += 1
    for match in _ALIAS.finditer(text):
        before = text[: match.start()].split()
        if not (before and before[-1].lower() in _CONTINENT_PARTS):
            found.add(_ALIAS_OF[match.group(1)])
    return found


def country_names(country: str) -> set[str]:
    """Every way of naming `country` this table knows: "United States", "U.S.", "US", "America"."""
    return {country, *_ALIASES.get(country, ())}
