# Spanish as written in the United States (CLDR es-US), for readers whose prices, checks
# and bank statements all read "$2,150.00": "5 de marzo de 2026", "5 de marzo de 2026 a las
# 15:04", "$2,150.00". Spain's "2.150,00 US$" would read as two dollars here.
DATE_FORMAT = r"j \d\e F \d\e Y"
DATETIME_FORMAT = r"j \d\e F \d\e Y \a \l\a\s H:i"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
# Not a Django format: sers.formatting.money puts the amount in it.
MONEY_FORMAT = "${amount}"
