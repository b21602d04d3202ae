"""Synthetic card-face items (券面): generated names and addresses, never real people."""

from __future__ import annotations

# Common surname and given-name forms used only as synthetic labels (no real person is meant).
SURNAMES = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤",
            "吉田", "山田", "佐々木", "山口", "松本", "井上", "木村", "林", "斎藤", "清水",
            "山崎", "森", "池田", "橋本", "阿部", "石川", "山下", "中島", "石井", "小川",
            "前田", "岡田", "長谷川", "藤田", "後藤", "近藤", "村上", "遠藤", "青木", "坂本")
GIVEN_M = ("翔太", "大輔", "健一", "誠", "蓮", "悠真", "湊", "陽翔", "蒼", "大翔", "拓也", "直樹",
           "浩二", "和夫", "茂", "清", "隆", "亮", "颯太", "樹")
GIVEN_F = ("陽菜", "結衣", "美咲", "さくら", "葵", "凛", "芽依", "花子", "恵子", "洋子", "幸子",
           "裕子", "由美", "明美", "真由美", "彩", "舞", "愛", "結菜", "紬")


def synthetic_name(household_id: int, resident_id: int, sex: int, version: int = 0) -> str:
    """A generated name: the surname follows the household (and changes with `version`)."""
    surname = SURNAMES[(household_id * 7 + version * 13) % len(SURNAMES)]
    given = (GIVEN_M if sex == 1 else GIVEN_F)[(resident_id * 11 + household_id) % len(GIVEN_M)]
    return f"{surname} {given}"


def synthetic_address(city_ja: str, ward: int, household_id: int, version: int = 0) -> str:
    """A generated address in ward `ward` (0-based); `version` counts moves."""
    chome = 1 + (household_id * 7 + version * 3) % 9
    banchi = 1 + (household_id * 13 + version * 5) % 40
    go = 1 + (household_id + version * 11) % 30
    return f"{city_ja}第{ward + 1}区{chome}丁目{banchi}番{go}号"
