package model

import "strings"

// countryPossessives name the countries of the built-in rules
// (rules/defaults.toml) the way an alert's "Who" line puts a role before
// them: "Russia's intelligence chief". Read-only.
var countryPossessives = map[string]string{
	"AE": "the UAE's", "AF": "Afghanistan's", "AL": "Albania's", "AM": "Armenia's",
	"AR": "Argentina's", "AT": "Austria's", "AU": "Australia's", "AZ": "Azerbaijan's",
	"BA": "Bosnia's", "BD": "Bangladesh's", "BE": "Belgium's", "BG": "Bulgaria's",
	"BH": "Bahrain's", "BR": "Brazil's", "BY": "Belarus's", "CA": "Canada's",
	"CH": "Switzerland's", "CL": "Chile's", "CN": "China's", "CO": "Colombia's",
	"CU": "Cuba's", "CY": "Cyprus's", "CZ": "the Czech Republic's", "DE": "Germany's",
	"DK": "Denmark's", "DZ": "Algeria's", "EE": "Estonia's", "EG": "Egypt's",
	"ES": "Spain's", "ET": "Ethiopia's", "FI": "Finland's", "FR": "France's",
	"GB": "Britain's", "GE": "Georgia's", "GR": "Greece's", "HR": "Croatia's",
	"HU": "Hungary's", "ID": "Indonesia's", "IE": "Ireland's", "IL": "Israel's",
	"IN": "India's", "IQ": "Iraq's", "IR": "Iran's", "IT": "Italy's",
	"JO": "Jordan's", "JP": "Japan's", "KE": "Kenya's", "KG": "Kyrgyzstan's",
	"KP": "North Korea's", "KR": "South Korea's", "KW": "Kuwait's", "KZ": "Kazakhstan's",
	"LB": "Lebanon's", "LK": "Sri Lanka's", "LT": "Lithuania's", "LV": "Latvia's",
	"LY": "Libya's", "MA": "Morocco's", "MD": "Moldova's", "MN": "Mongolia's",
	"MR": "Mauritania's", "MX": "Mexico's", "MY": "Malaysia's", "NG": "Nigeria's",
	"NL": "the Netherlands'", "NO": "Norway's", "NP": "Nepal's", "NZ": "New Zealand's",
	"OM": "Oman's", "PE": "Peru's", "PH": "the Philippines'", "PK": "Pakistan's",
	"PL": "Poland's", "PS": "Palestine's", "PT": "Portugal's", "QA": "Qatar's",
	"RO": "Romania's", "RS": "Serbia's", "RU": "Russia's", "SA": "Saudi Arabia's",
	"SD": "Sudan's", "SE": "Sweden's", "SG": "Singapore's", "SK": "Slovakia's",
	"SN": "Senegal's", "SO": "Somalia's", "SU": "the Soviet Union's", "SY": "Syria's",
	"TH": "Thailand's", "TJ": "Tajikistan's", "TM": "Turkmenistan's", "TN": "Tunisia's",
	"TR": "Turkey's", "TW": "Taiwan's", "UA": "Ukraine's", "UG": "Uganda's",
	"US": "the US's", "UZ": "Uzbekistan's", "VA": "the Vatican's", "VE": "Venezuela's",
	"VN": "Vietnam's", "YE": "Yemen's", "ZA": "South Africa's",
}

// CountryPossessive returns "Russia's" for "RU" (any case). A country a
// configuration adds is named by its code ("XK's"); "" for no country.
func CountryPossessive(code string) string {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return ""
	}
	if p, ok := countryPossessives[code]; ok {
		return p
	}
	return code + "'s"
}
