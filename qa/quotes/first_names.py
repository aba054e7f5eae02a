"""Common first names in English-language news, by sex: evidence that a capitalised run names a
person ("Trevor Houser") rather than a place, product or body ("Downing Street", "Pinot Noir"),
and the referent a "she" needs."""

from __future__ import annotations

FEMALE = frozenset(
    "mary patricia jennifer linda elizabeth barbara susan jessica sarah karen nancy lisa "
    "margaret betty sandra ashley dorothy kimberly emily donna michelle carol amanda melissa "
    "deborah stephanie rebecca laura sharon cynthia kathleen amy shirley angela helen anna "
    "brenda pamela nicole samantha katherine emma ruth christine catherine debra rachel "
    "carolyn janet virginia maria heather diane julie joyce victoria kelly christina joan "
    "evelyn lauren judith olivia frances martha cheryl megan andrea hannah jacqueline ann "
    "jean alice kathryn gloria teresa doris sara janice julia marie madison grace judy "
    "theresa beverly denise marilyn amber danielle abigail brittany rose diana natalie "
    "sophia alexis lori kayla jane tessa hillary hilary condoleezza harriet yvette clare "
    "claire estelle ursula kamala elena olga irina tatiana natalia svetlana yulia valentina "
    "marina anastasia ekaterina liz priti fiona cathy hazel jacqui glenda jemma kate sally "
    "sue anne joanne jo lucy caroline alison beverley nicola cherie shanna natalya birgit "
    "angela ségolène segolene christiane carla edith nadia leila fatima aisha sonia indira "
    "benazir golda gina tina theresa patsy baroness julia valerie ruth mo glenys margot "
    "charlotte sophie isabel isabelle monique francoise françoise ingrid karin petra "
    "heidi ulrike gisela renate sabine mariko yuko mei ling xiu jin wen hui".split()
)

MALE = frozenset(
    "james john robert michael william david richard joseph thomas charles christopher daniel "
    "matthew anthony mark donald steven paul andrew joshua kenneth kevin brian george timothy "
    "ronald edward jason jeffrey ryan jacob gary nicholas eric jonathan stephen larry justin "
    "scott brandon benjamin samuel gregory alexander frank patrick raymond jack dennis jerry "
    "tyler aaron jose adam nathan henry douglas zachary peter kyle walter ethan jeremy harold "
    "keith christian roger noah gerald carl terry sean austin arthur lawrence jesse dylan "
    "bryan joe jordan billy bruce albert willie gabriel logan alan juan wayne roy ralph "
    "randy eugene vincent russell elijah louis bobby philip johnny tony gordon ken ed "
    "tim tom jim bill bob mike dave steve nick chris phil rob andy ian colin alistair "
    "alastair neil nigel geoff geoffrey graham malcolm derek trevor clive simon hugh "
    "jeremy robin martin howard norman leslie stuart stewart ross duncan gavin iain "
    "angus hamish euan fergus dominic oliver harry charlie alfie liam kieran declan "
    "vladimir dmitry dmitri sergei sergey mikhail boris viktor victor yuri igor alexei "
    "alexey nikolai ivan oleg andrei andriy andrey pavel maxim anatoly vitaly vitali "
    "gennady valery leonid konstantin ramzan volodymyr dmytro petro oleksiy mykola "
    "jean pierre jacques francois françois nicolas emmanuel dominique alain philippe "
    "michel gerhard helmut wolfgang klaus joschka horst hans jurgen jürgen "
    "friedrich franz karl otto heinz dieter uwe olaf silvio romano mario "
    "giuseppe giovanni luigi carlo francesco matteo paolo marco jose josé luis carlos "
    "miguel juan manuel antonio javier rodrigo pedro felipe jorge ricardo fernando "
    "luiz ignacio mariano pedro recep ahmet mehmet ali abdullah mohammed muhammad mohamed "
    "ahmed hassan hussein omar osama yasser mahmoud ayman hamid hamad khalid saddam "
    "ariel benjamin ehud shimon yitzhak binyamin avigdor naftali yair "
    "narendra manmohan rahul atal palaniappan pranab arun amit rajiv sanjay "
    "junichiro shinzo taro yoshihiko "
    "kofi nelson thabo jacob robert olusegun goodluck muammar hosni anwar "
    "barack george bill ronald jimmy gerald lyndon dwight harry franklin woodrow "
    "boris keir menzies "
    "rupert warren elon jeff sundar satya tim steve larry sergey".split()
)
