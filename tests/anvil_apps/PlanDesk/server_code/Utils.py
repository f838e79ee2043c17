def cents(amount):
    return int(round(amount * 100))
