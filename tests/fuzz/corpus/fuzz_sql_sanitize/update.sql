/* c /* nested */ */ UPDATE ONLY public."T" SET v = 0x1F -- tail
 WHERE x = $1