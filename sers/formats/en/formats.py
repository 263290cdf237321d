# English (United States): "March 5, 2026", "March 5, 2026, 3:04 p.m.", "$2,150.00".
DATE_FORMAT = "F j, Y"
DATETIME_FORMAT = "F j, Y, P"
SHORT_DATE_FORMAT = DATE_FORMAT
SHORT_DATETIME_FORMAT = DATETIME_FORMAT
DECIMAL_SEPARATOR = "."
THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
# Not a Django format: sers.formatting.money puts the amount in it.
MONEY_FORMAT = "${amount}"
